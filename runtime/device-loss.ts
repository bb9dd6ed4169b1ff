// A device can be lost at any time: the driver resets, the browser reclaims the GPU, someone calls destroy().
// WebGPU then resolves `device.lost` and may leave pending work (a mapAsync) unsettled for ever, so a session that
// only awaited its own promises would hang. LossWatch turns the loss into one clear DeviceLostError for the pending
// wait and every later call; the session stays unusable (a lost device never comes back) and a new Session.load in
// the same process gets a fresh device.
// One listener per device, and waiters that remove themselves when their work settles: racing each wait against a
// promise that never settles (Promise.race) would keep every wait's result reachable for the device's lifetime.

export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

interface DeviceState {
  info?: GPUDeviceLostInfo;
  readonly waiters: Set<(info: GPUDeviceLostInfo) => void>;
}

const states = new WeakMap<GPUDevice, DeviceState>();

function stateOf(device: GPUDevice): DeviceState {
  let state = states.get(device);
  if (!state) {
    const s: DeviceState = { waiters: new Set() };
    states.set(device, (state = s));
    void device.lost.then((info) => {
      s.info = info;
      for (const w of s.waiters) w(info);
      s.waiters.clear();
    });
  }
  return state;
}

// Private state is in #fields, whose names the bundle minifies.
export class LossWatch {
  readonly #state: DeviceState;
  readonly #what: string;

  constructor(device: GPUDevice, what: string) {
    this.#state = stateOf(device);
    this.#what = what;
  }

  #error(info: GPUDeviceLostInfo): DeviceLostError {
    const why = `${info.reason ?? 'unknown'}${info.message ? `: ${info.message}` : ''}`;
    return new DeviceLostError(`the GPU device running ${this.#what} was lost (${why}); load the artifact again (Session.load) to continue`);
  }

  /** Throw the loss, if the device was lost. */
  check(): void {
    if (this.#state.info) throw this.#error(this.#state.info);
  }

  /** `work`'s result, or the loss when the device is lost first or `work` fails because of it. */
  guard<T>(work: Promise<T>): Promise<T> {
    const state = this.#state;
    return new Promise<T>((resolve, reject) => {
      const lost = (info: GPUDeviceLostInfo): void => reject(this.#error(info));
      state.waiters.add(lost);
      work.then(
        (v) => {
          state.waiters.delete(lost);
          resolve(v);
        },
        (e) => {
          state.waiters.delete(lost);
          if (state.info) return reject(this.#error(state.info));
          // A failure caused by the loss can settle before `device.lost` does: give the loss a moment to arrive.
          setTimeout(() => reject(state.info ? this.#error(state.info) : e), 50);
        },
      );
    });
  }
}

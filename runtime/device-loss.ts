// A device can be lost at any time: the driver resets, the browser reclaims the GPU, someone calls destroy().
// WebGPU then resolves `device.lost` and may leave pending work (a mapAsync) unsettled for ever, so a session that
// only awaited its own promises would hang. LossWatch races every GPU wait against the loss and turns it into one
// clear DeviceLostError; the session stays unusable (a lost device never comes back) and a new Session.load in the
// same process gets a fresh device.

export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

export class LossWatch {
  private lost?: DeviceLostError;
  private readonly signal: Promise<never>;

  constructor(device: GPUDevice, what: string) {
    this.signal = device.lost.then((info) => {
      const why = `${info.reason ?? 'unknown'}${info.message ? `: ${info.message}` : ''}`;
      throw (this.lost = new DeviceLostError(`the GPU device running ${what} was lost (${why}); load the artifact again (Session.load) to continue`));
    });
    this.signal.catch(() => undefined); // observed through check() and guard()
  }

  /** Throw the loss, if the device was lost. */
  check(): void {
    if (this.lost) throw this.lost;
  }

  /** `work`'s result, or the loss when the device is lost first or `work` fails because of it. */
  async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await Promise.race([work, this.signal]);
    } catch (e) {
      if (this.lost) throw this.lost;
      // A failure caused by the loss can settle before `device.lost` does: give the loss a moment to arrive.
      await new Promise((r) => setTimeout(r, 50));
      this.check();
      throw e;
    }
  }
}

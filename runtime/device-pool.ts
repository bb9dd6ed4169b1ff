// One device per process for the sessions that bring none, as onnxruntime-web shares one: loading a second model
// creates no second Vulkan instance, device and pipeline cache (on lavapipe each costs several MB that the driver
// does not give back), and sessions of one page or process see one GPU. The device is counted by its users and
// destroyed when the last one releases it, so a Node process still exits on its own once its sessions are disposed;
// a lost device leaves the pool at once, so the next load gets a fresh one.
import { type AcquiredDevice, acquireDevice } from './device.js';

interface Entry {
  readonly acquired: Promise<AcquiredDevice>;
  users: number;
}

let pool: Entry | undefined;

function open(): Entry {
  // Every limit at the adapter's best and shader-f16 when offered: the models that will share it are not known yet.
  const entry: Entry = { users: 0, acquired: acquireDevice({ optionalFeatures: ['shader-f16', 'subgroups'], bestLimits: true }) };
  const leave = (): void => {
    if (pool === entry) pool = undefined;
  };
  entry.acquired.then((a) => a.device.lost.then(leave), leave);
  return entry;
}

/** A use of the process's shared device; release() ends the use (the last one destroys the device). */
export async function sharedDevice(): Promise<AcquiredDevice> {
  const entry = (pool ??= open());
  entry.users++;
  let acquired: AcquiredDevice;
  try {
    acquired = await entry.acquired;
  } catch (e) {
    entry.users--;
    throw e;
  }
  let released = false;
  return {
    ...acquired,
    release(): void {
      if (released) return;
      released = true;
      if (--entry.users > 0) return;
      if (pool === entry) pool = undefined;
      acquired.release();
    },
  };
}

// Errors the operating system reports about a path kiln reads or writes (permissions, a full or read-only disk, a
// missing file) are the user's to fix, not kiln bugs: they become one line naming the path, what went wrong and
// what to do. Node's own messages ("EACCES: permission denied, open '...'") name the syscall, not the remedy, and
// writes through a file descriptor (the ENOSPC of a weights page) carry no path at all, so callers that know the
// path wrap the error here.

export class FileSystemError extends Error {
  override name = 'FileSystemError';
  constructor(
    message: string,
    readonly code: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** What the code means and what to do about it; undefined for codes that are not about the path (kiln bugs). */
const REMEDIES: Readonly<Record<string, readonly [string, string]>> = {
  EACCES: ['permission denied', 'check its permissions or choose another path'],
  EPERM: ['operation not permitted', 'check its permissions or choose another path'],
  ENOSPC: ['no space left on the device', 'free some space or choose another path'],
  EDQUOT: ['disk quota exceeded', 'free some space or choose another path'],
  EROFS: ['read-only file system', 'choose a path on a writable file system'],
  ENOENT: ['no such file or directory', 'check the path'],
  ENOTDIR: ['a part of the path is not a directory', 'check the path'],
  EISDIR: ['is a directory', 'give a file, not a directory'],
  EEXIST: ['already exists', 'move it away or choose another path'],
  ENOTEMPTY: ['directory not empty', 'move its contents away or choose another path'],
  EMFILE: ['too many open files', 'raise the open-file limit (ulimit -n) and try again'],
  ENFILE: ['too many open files in the system', 'close other programs and try again'],
  EIO: ['input/output error', 'check the disk'],
  ENAMETOOLONG: ['file name too long', 'choose a shorter path'],
  ELOOP: ['too many symbolic links', 'check the path for a symbolic link loop'],
  EFBIG: ['file too large for the file system', 'choose a path on another file system'],
  EXDEV: ['cannot move across file systems', 'choose an output folder on one file system'],
  EBUSY: ['resource busy', 'close what holds it and try again'],
};

/** For errors nobody wrapped: what the failing syscall was doing. */
const SYSCALL_VERBS: Readonly<Record<string, string>> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create',
  mkdtemp: 'create',
  rename: 'move',
  unlink: 'remove',
  rmdir: 'remove',
  scandir: 'list',
  stat: 'inspect',
  lstat: 'inspect',
  copyfile: 'copy',
};

export const isSystemErrorCode = (code: unknown): code is string => typeof code === 'string' && Object.hasOwn(REMEDIES, code);

/**
 * The error as a FileSystemError naming `path` (the error's own path when it has one), or the error unchanged when it
 * is not a system error about a path. `verb` says what kiln was doing: 'read', 'write', 'create', 'remove'...
 */
export function systemError(e: unknown, path?: string, verb?: string): unknown {
  if (e instanceof FileSystemError) return e;
  const err = e as NodeJS.ErrnoException & { dest?: string };
  if (!isSystemErrorCode(err?.code)) return e;
  verb ??= SYSCALL_VERBS[err.syscall ?? ''] ?? 'access';
  // mkdtemp's own path is its XXXXXX template: the folder it was creating in says more.
  const where = (err.syscall === 'mkdtemp' ? undefined : err.path) ?? path ?? '(unknown path)';
  const [what, remedy] = REMEDIES[err.code]!;
  const other = err.dest && err.dest !== where ? ` (to ${err.dest})` : '';
  return new FileSystemError(`cannot ${verb} ${where}${other}: ${what} (${err.code}); ${remedy}`, err.code, where);
}

/** Run `work`, rethrowing a system error about `path` as a FileSystemError. */
export function onPath<T>(path: string, verb: string, work: () => T): T {
  try {
    return work();
  } catch (e) {
    throw systemError(e, path, verb);
  }
}

/** Every exit code plexctl uses, in one place, so scripts can rely on them. */
export const ExitCode = {
  /** Done, or nothing to do. */
  ok: 0,
  /** Something failed, or the input was refused. Nothing was changed unless the output says so. */
  failed: 1,
  /** `plan`: changes are pending (nothing was changed). */
  changesPending: 2,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

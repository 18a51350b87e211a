/** The errors of the repo-sync modules (the git server's are GitServerError, ../../gitea/client.ts). */

/** A configuration or source problem (not the git server's). */
export class RepoSyncError extends Error {
  override readonly name = 'RepoSyncError';
}

/** A git command failed; `message` names the command and git's reason. Both are scrubbed of the secrets Git knows. */
export class GitCommandError extends Error {
  override readonly name = 'GitCommandError';
  constructor(
    message: string,
    /** Sanitized stdout+stderr. */
    readonly output: string,
  ) {
    super(message);
  }
}

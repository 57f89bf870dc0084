// Kept apart from the S3 client's module so the engine can recognise it without loading the AWS SDK.

/** Why a remote entry was not used: a damaged object or entry is reported, never committed. */
export class RemoteDamage extends Error {
  override readonly name = 'RemoteDamage';
}

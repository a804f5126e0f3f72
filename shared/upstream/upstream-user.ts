import * as z from 'zod';
import { UpstreamUserSchema } from '../contracts/job.js';

/**
 * `user {id, email_address}` as upstream sends it on chats, projects and documents (null when the
 * creator's account was deleted or left the organization), turned into the record's shape
 * (`{id, emailAddress}`) and held to the job's rules. A user that does not match is read as "not
 * said" (undefined) rather than losing the chat, project or document over it.
 */
export const WireUserSchema = z
  .looseObject({ id: z.string(), email_address: z.string().nullish() })
  .transform((u) => ({ id: u.id, emailAddress: u.email_address ?? null }))
  .pipe(UpstreamUserSchema)
  .nullish()
  .catch(undefined);

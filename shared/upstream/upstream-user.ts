import * as z from '../contracts/zod.js';
import { UpstreamUserSchema } from '../contracts/job.js';

/**
 * `user {id, email_address}` as upstream sends it on chats, projects and documents (null when the
 * creator's account was deleted or left the organization), turned into the record's shape
 * (`{id, emailAddress}`) and held to the job's rules. A user that does not match is read as "not
 * said" (undefined) rather than losing the chat, project or document over it.
 */
export const WireUserSchema = z.catch(
  z.nullish(
    z.pipe(
      z.pipe(
        z.looseObject({ id: z.string(), email_address: z.nullish(z.string()) }),
        z.transform((u) => ({ id: u.id, emailAddress: u.email_address ?? null })),
      ),
      UpstreamUserSchema,
    ),
  ),
  undefined,
);

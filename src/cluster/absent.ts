// "Absent" versus "could not read": only a forbidden read (RBAC) or a kind the server does not serve
// (not found) may stand for "there is nothing to see". An HTTP 500, a timeout or an unreachable server
// says nothing about the cluster's objects: it must reach the engine, which makes the check `error`
// with the reason, instead of reading as "none" and raising a false finding or a false pass.
import { AccessError, type ClusterReader, type KubeObject, type ListScope, type ResourceKindName } from './types.ts';

/** Whether a read failed in a way that means "absent" (forbidden or not found), not an outage. */
export function isAbsence(err: unknown): err is AccessError {
  return err instanceof AccessError && (err.reason === 'forbidden' || err.reason === 'not-found');
}

/**
 * The value of a read, or undefined when it is forbidden or not found (`onAbsent` hears why); every
 * other failure propagates.
 */
export async function unlessAbsent<T>(read: Promise<T>, onAbsent?: (err: AccessError) => void): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (!isAbsence(err)) throw err;
    onAbsent?.(err);
    return undefined;
  }
}

/**
 * All objects of a kind, or undefined when the list is forbidden or the kind is not served (the facts
 * it would give stay unknown). Any other failure (5xx, timeout, unreachable) throws.
 */
export function listIfReadable(reader: ClusterReader, kind: ResourceKindName, scope?: ListScope, onAbsent?: (err: AccessError) => void): Promise<KubeObject[] | undefined> {
  return unlessAbsent(reader.listOptional(kind, scope), onAbsent);
}

import type { Count } from '../controls.js';

/** A reported count: a number, JSON null, or undefined for a field left out of the body. */
export type Reported = number | null | undefined;

/** What the body carries for a breakdown count: the provider's own default when the test did not ask. */
export function reported(count: Count | undefined, providerDefault?: number): Reported {
  if (count === undefined) return providerDefault;
  return count === 'omit' ? undefined : count;
}

/** What a count adds to a total the provider computes itself. */
export function amount(value: Reported): number {
  return value ?? 0;
}

/** The fields that are not undefined, so that "left out" really is absent rather than serialised away by chance. */
export function defined<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** Like defined(), but undefined when no field is left: the provider then sends no details object. */
export function nonEmpty<T extends Record<string, unknown>>(fields: T): Partial<T> | undefined {
  const kept = defined(fields);
  return Object.keys(kept).length > 0 ? kept : undefined;
}

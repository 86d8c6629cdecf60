/**
 * The one form in which e-mail addresses are stored and compared: without surrounding
 * spaces, in lower case. Every address a person types goes through here first.
 */
export function normalizeEmail (email: string): string {
  return email.trim().toLowerCase()
}

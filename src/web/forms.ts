import { notFound } from '../domain/errors.js'
import { parseId } from '../domain/text.js'
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify'

export type FieldErrors = Record<string, string>
export type FormValues = Record<string, string>

export interface FieldSpec {
  label: string
  /** Shown when the field is empty or only spaces. */
  missing: string
  /** Shown when the value has the wrong shape (an e-mail address, a choice). */
  invalid?: string
  maxLength: number
  optional?: boolean
}

export type FormSpec = Record<string, FieldSpec>

/** The JSON schema Fastify validates a form body against, built from the field specs. */
export function formSchema (spec: FormSpec, formats: Record<string, string> = {}): object {
  const properties: Record<string, object> = { _csrf: { type: 'string' } }
  const required: string[] = []
  for (const [name, field] of Object.entries(spec)) {
    properties[name] = {
      type: 'string',
      maxLength: field.maxLength,
      ...(field.optional ? {} : { minLength: 1, pattern: '\\S' }),
      ...(formats[name] ? { format: formats[name] } : {})
    }
    if (!field.optional) required.push(name)
  }
  return { type: 'object', properties, required }
}

/**
 * Turns Fastify's validation result into one plain-language message per field, and adds
 * what JSON schema cannot say: text that arrived as invalid UTF-8 or with control bytes.
 */
export function formErrors (request: FastifyRequest, spec: FormSpec): FieldErrors {
  const errors: FieldErrors = {}
  const validation = (request.validationError as { validation?: FastifySchemaValidationError[] } | undefined)?.validation ?? []
  for (const issue of validation) {
    const name = issue.keyword === 'required'
      ? String((issue.params as { missingProperty?: string }).missingProperty ?? '')
      : issue.instancePath.slice(1)
    const field = spec[name]
    if (!field) {
      errors._form ??= 'The form could not be read. Please fill it in again.'
      continue
    }
    errors[name] ??= messageFor(issue, field)
  }
  for (const [name, value] of Object.entries(formValues(request, spec))) {
    if (errors[name] || !spec[name]) continue
    // U+FFFD is what the body parser leaves where bytes were not valid UTF-8.
    if (value.includes('\uFFFD')) errors[name] = `${spec[name].label} contains characters that could not be read. Please retype it.`
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(value)) errors[name] = `${spec[name].label} contains control characters. Please retype it.`
  }
  return errors
}

function messageFor (issue: FastifySchemaValidationError, field: FieldSpec): string {
  switch (issue.keyword) {
    case 'required':
    case 'minLength':
    case 'pattern':
      return field.missing
    case 'maxLength':
      return `${field.label} must be ${String((issue.params as { limit?: number }).limit)} characters or fewer.`
    case 'type':
      return `${field.label} must be text.`
    default:
      return field.invalid ?? `${field.label} is not valid.`
  }
}

/** What the person typed, as strings, so a form shown again keeps every word. */
export function formValues<S extends FormSpec> (request: FastifyRequest, spec: S): Record<keyof S & string, string> {
  const body = (request.body !== null && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>
  const values: Record<string, string> = {}
  for (const name of Object.keys(spec)) {
    const value = body[name]
    values[name] = typeof value === 'string' ? value : Array.isArray(value) ? value.filter((v) => typeof v === 'string').join('\n') : ''
  }
  return values
}

export { parseId } from '../domain/text.js'

/** The `:id` of the route's path as a database id; anything else is `what` not found. */
export function idParam (request: FastifyRequest, what: string): number {
  const id = parseId((request.params as { id?: unknown } | undefined)?.id)
  if (id === undefined) throw notFound(what)
  return id
}

export function hasErrors (errors: FieldErrors): boolean {
  return Object.keys(errors).length > 0
}

export interface FormRouteOptions<S extends FormSpec> {
  /** JSON-schema formats per field, e.g. { email: 'email' }. */
  formats?: Record<string, string>
  /** Requests per address and window before the form is refused (shown again, 429); `max` may be read per request from a setting. */
  rateLimit?: { max: number | ((request: FastifyRequest) => Promise<number>), timeWindow: string }
  /** Where a GET of the form's address goes (see LostUrls); by default the page above it. */
  getGoesTo?: string
  /** Shows the form again with what the person typed and the messages. */
  show: (request: FastifyRequest, reply: FastifyReply, values: Record<keyof S & string, string>, errors: FieldErrors, status: number) => Promise<FastifyReply>
}

/**
 * Route options every form POST shares: Fastify validates the body against the spec (the
 * handler reads the outcome), the CSRF token is checked, and a request refused before the
 * handler (expired token, rate limit) shows the same form again with the text kept.
 */
export function formRoute<S extends FormSpec> (app: FastifyInstance, spec: S, options: FormRouteOptions<S>) {
  return {
    schema: { body: formSchema(spec, options.formats) },
    attachValidation: true,
    preValidation: app.csrfProtection,
    config: {
      showForm: async (request: FastifyRequest, reply: FastifyReply, errors: FieldErrors, status: number) =>
        await options.show(request, reply, formValues(request, spec), errors, status),
      ...(options.rateLimit ? { rateLimit: { ...options.rateLimit, hook: 'preHandler' as const } } : {}),
      ...(options.getGoesTo !== undefined ? { getGoesTo: options.getGoesTo } : {})
    }
  }
}

/** The submitted values and Fastify's verdict on them, in the person's words. */
export function readForm<S extends FormSpec> (request: FastifyRequest, spec: S): { values: Record<keyof S & string, string>, errors: FieldErrors } {
  return { values: formValues(request, spec), errors: formErrors(request, spec) }
}

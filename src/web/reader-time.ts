import type { FastifyRequest } from 'fastify'
import type { DeskSettings } from '../domain/desk-settings.js'
import { isDateStyle, isTimeZone, timeElement, type Reader } from '../domain/time-format.js'
import { age } from './format.js'

/**
 * Whose eyes a page is for: a signed-in agent reads times in their own zone and style (the
 * desk's zone when they chose none); clients, and pages outside the staff panel, in the desk's.
 */
export function readerOf (request: FastifyRequest, desk: Pick<DeskSettings, 'timeZone'>, now: () => number): Reader {
  // Set only inside the staff panel; undefined on the portal.
  const preferences = (request.agent as FastifyRequest['agent'] | undefined)?.preferences
  return {
    zone: isTimeZone(preferences?.timeZone) ? preferences.timeZone : desk.timeZone,
    style: isDateStyle(preferences?.dateStyle) ? preferences.dateStyle : 'iso',
    now
  }
}

/** The `time` and `age` helpers every template calls, for this reader. */
export function readerLocals (reader: Reader): { time: (ms: number | string | null) => string, age: (ms: number) => string } {
  return {
    time: (ms) => timeElement(ms, reader),
    age: (ms) => age(ms, reader.now())
  }
}

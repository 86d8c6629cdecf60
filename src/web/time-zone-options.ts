import { timeZones } from '../domain/time-format.js'

/** The time zones a menu offers, as `_field` takes them; built once, every form shares it. */
export const timeZoneOptions: ReadonlyArray<{ value: string, label: string }> =
  timeZones.map((zone) => ({ value: zone, label: zone.replaceAll('_', ' ') }))

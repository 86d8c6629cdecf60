/*
 * The automation settings (part of the desk settings): after how many days the scheduler
 * closes a resolved ticket, reminds the client of a pending one, and then resolves it.
 */

export const automationDefaults = { autoCloseDays: 7, reminderDays: 0, autoResolveDays: 0 }

/** Zero turns a step off. */
export const automationRanges = {
  autoCloseDays: { min: 0, max: 365 },
  reminderDays: { min: 0, max: 365 },
  autoResolveDays: { min: 0, max: 365 }
} as const

export const automationLabels = {
  autoCloseDays: 'Close resolved tickets after',
  reminderDays: 'Remind the client after',
  autoResolveDays: 'Resolve after the reminder'
}

type AutomationField = keyof typeof automationDefaults

/** What ranges alone cannot say: auto-resolve counts from the reminder, so it needs one. */
export function automationErrors (numbers: Partial<Record<AutomationField, number>>, errors: Partial<Record<AutomationField, string>>): Partial<Record<AutomationField, string>> {
  if (errors.autoResolveDays === undefined && errors.reminderDays === undefined && (numbers.autoResolveDays ?? 0) > 0 && numbers.reminderDays === 0) {
    return { autoResolveDays: 'Auto-resolve counts from the reminder: set a reminder too, or set this to 0.' }
  }
  return {}
}

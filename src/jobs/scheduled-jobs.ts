import type { DeskSettingsStore } from '../domain/desk-settings.js'
import type { Lifecycle } from '../domain/lifecycle.js'
import { slaPass } from '../domain/sla.js'
import { surveyPass } from '../domain/survey.js'
import { automationJobs } from './automation.js'
import type { ScheduledJob } from './scheduler.js'

export interface ScheduledJobDeps {
  lifecycle: Lifecycle
  deskSettings: DeskSettingsStore
  /** This instance's lease owner. */
  owner: string
}

/**
 * Every time-based job the scheduler runs, in order. A new pass (SLA clocks, the survey)
 * adds its entry here: a name and a `(db, now) => Promise<number>`.
 */
export function scheduledJobs (deps: ScheduledJobDeps): ScheduledJob[] {
  return [
    ...automationJobs({ lifecycle: deps.lifecycle, settings: deps.deskSettings.current, owner: deps.owner }),
    {
      // SLA warnings and breaches: each is claimed by a conditional update, so however many
      // instances run the pass, a notice goes once. Batches until nothing is left.
      name: 'sla',
      run: async (db, now) => {
        let total = 0
        for (let batch = await slaPass(db, now); batch > 0; batch = await slaPass(db, now)) total += batch
        return total
      }
    },
    // Satisfaction surveys sent after the delay: each claimed by a conditional update.
    { name: 'survey', run: async (db, now) => await surveyPass(db, now) }
  ]
}

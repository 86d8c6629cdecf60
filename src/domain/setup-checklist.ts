import type { Knex } from 'knex'
import type { AgentAccess } from '../data/agents.js'
import { catalogWasReviewed, readSetupFacts } from '../data/setup-checklist.js'
import { recordAdminChange } from './admin-log.js'

/** The first things an administrator does with a new desk, in the order the checklist shows them. */
export const setupSteps = ['deskName', 'catalog', 'agents', 'outgoingMail', 'incomingMail', 'testMail'] as const
export type SetupStep = typeof setupSteps[number]

export interface SetupChecklistOptions {
  /** SMTP_URL is set. */
  outgoingMailConfigured: boolean
  /** IMAP_URL is set. */
  mailboxConfigured: boolean
  now?: () => number
}

export function createSetupChecklist (db: Knex, options: SetupChecklistOptions) {
  const now = options.now ?? Date.now
  return {
    /** Which steps are done; one query. */
    async progress (): Promise<Record<SetupStep, boolean>> {
      const facts = await readSetupFacts(db)
      return {
        deskName: facts.deskNamed,
        catalog: facts.catalogReviewed,
        agents: facts.agentCount > 1,
        outgoingMail: options.outgoingMailConfigured,
        incomingMail: options.mailboxConfigured || facts.departmentAddressExists,
        testMail: facts.testMessageSent
      }
    },

    /**
     * The administrator looked at the departments and help topics the desk started with and
     * keeps them as they are; recorded like any change to them. Once is enough: after any
     * recorded change to either, this records nothing.
     */
    async confirmCatalog (admin: AgentAccess): Promise<void> {
      await db.transaction(async (trx) => {
        if (await catalogWasReviewed(trx)) return
        const at = now()
        await recordAdminChange(trx, admin, { subject: 'department', subjectId: null, action: 'reviewed' }, at)
        await recordAdminChange(trx, admin, { subject: 'help_topic', subjectId: null, action: 'reviewed' }, at)
      })
    }
  }
}

export type SetupChecklist = ReturnType<typeof createSetupChecklist>

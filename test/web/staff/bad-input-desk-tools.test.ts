import { staffCorpusTests } from '../../helpers/staff-forms.js'

// The staff forms of test/helpers/staff-forms.ts in group 'desk-tools' (new ticket for a
// caller, blocked senders, two-factor sign-in), each hit with the whole corpus.
staffCorpusTests('desk-tools')

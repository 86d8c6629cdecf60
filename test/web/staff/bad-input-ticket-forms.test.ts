import { staffCorpusTests } from '../../helpers/staff-forms.js'

// The staff forms of test/helpers/staff-forms.ts in group 'ticket', each hit with the whole corpus.
staffCorpusTests('ticket')

import { staffCorpusTests } from '../../helpers/staff-forms.js'

// The help topic and team forms of test/helpers/staff-forms.ts, each hit with the whole corpus.
staffCorpusTests('topics-teams')

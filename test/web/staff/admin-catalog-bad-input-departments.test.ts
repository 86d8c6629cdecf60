import { staffCorpusTests } from '../../helpers/staff-forms.js'

// The department forms of test/helpers/staff-forms.ts, each hit with the whole corpus.
staffCorpusTests('departments')

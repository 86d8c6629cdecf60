import { staffCorpusTests } from '../../helpers/staff-forms.js'

// The department signature form of test/helpers/staff-forms.ts, hit with the whole corpus.
staffCorpusTests('signatures')

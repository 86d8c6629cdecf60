import { staffCorpusTests } from '../../helpers/staff-forms.js'

// The staff forms of test/helpers/staff-forms.ts in group 'desk', each hit with the whole corpus.
staffCorpusTests('desk')

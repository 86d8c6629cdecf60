import { staffCorpusTests } from '../../helpers/staff-forms.js'

// The staff forms of test/helpers/staff-forms.ts in group 'around-ticket' (related tickets), each hit with the whole corpus.
staffCorpusTests('around-ticket')

/**
 * Loaded by mocha before every test file (.mocharc.json `require`). A CI run
 * is read once, after the fact: a failure must say everything it knows.
 */
import { config } from 'chai';

// chai cuts long actual values to 40 characters ("…/tmp/ours-ful…"): show them whole.
config.truncateThreshold = 0;

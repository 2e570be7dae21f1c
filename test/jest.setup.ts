import { verifyMustCalls } from './helpers/mustcall';

// Every mustCall wrapper made in a test must have been called exactly as often as it said.
afterEach(() => {
  verifyMustCalls();
});

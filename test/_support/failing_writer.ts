// A writer thread module that fails as it loads, for the tests of what a run does when its
// writer threads die.
throw new Error("this writer thread fails on purpose");

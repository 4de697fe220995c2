//! One integration-test binary driving the real `baton` binary.

mod common;
mod test_race;

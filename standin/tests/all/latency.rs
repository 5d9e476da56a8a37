//! `StandIn::set_latency`: every request waits the set delay before it is handled.

use std::time::{Duration, Instant};

use crate::common::{repo_path, start};

#[test]
fn latency_delays_each_request_and_zero_removes_it() {
    let env = start();
    let path = repo_path("/milestones");

    env.standin.set_latency(Duration::from_millis(150));
    for _ in 0..2 {
        let t = Instant::now();
        let r = env.get(&path);
        assert_eq!(r.status, 200);
        assert!(t.elapsed() >= Duration::from_millis(150), "took {:?}", t.elapsed());
    }
    // Still logged and answered as usual.
    assert_eq!(env.standin.requests().len(), 2);

    env.standin.set_latency(Duration::ZERO);
    let t = Instant::now();
    assert_eq!(env.get(&path).status, 200);
    assert!(t.elapsed() < Duration::from_millis(150), "took {:?}", t.elapsed());
}

//! Every peer name picks one peer: a name that is taken gets a suffix when a peer joins,
//! and a name two peers share anyway (as an older agent or a hand-edited file left
//! them) is refused with both ids instead of acting on the first.

use vibemesh_tests::TestAgent;

/// An agent's full id.
fn id_of(agent: &TestAgent) -> String {
    agent.json(&["status"])["id"]
        .as_str()
        .expect("id")
        .to_string()
}

#[test]
fn a_taken_name_gets_a_suffix_and_a_shared_one_is_refused_with_the_ids() {
    let a = TestAgent::start("laptop");
    let b = TestAgent::start("server");
    let c = TestAgent::start("server");
    let (b_id, c_id) = (id_of(&b), id_of(&c));

    // Joining twice under one name: the second is told it got another.
    let out = a.ok(&["join", &b.ticket(&[]), "--name", "box"]);
    assert!(out.contains("Paired with box "), "{out}");
    let out = a.ok(&["join", &c.ticket(&[]), "--name", "box"]);
    assert!(
        out.contains("Paired with box-2 ") && out.contains("Another peer is already called box"),
        "{out}"
    );
    let peers = a.json(&["peers"]);
    let named = |name: &str| {
        peers
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["id"].as_str().unwrap().to_string())
    };
    assert_eq!(named("box"), Some(b_id.clone()), "{peers}");
    assert_eq!(named("box-2"), Some(c_id.clone()), "{peers}");
    // Both are reached by their names.
    for name in ["box", "box-2"] {
        let out = a.ok(&["ls", name]);
        assert!(out.contains("No sessions"), "{name}: {out}");
    }

    // Two clients that pair under one name are told apart where they pair, too.
    let d = TestAgent::start("laptop");
    d.ok(&["join", &b.ticket(&[])]);
    let seen = b.json(&["peers"]);
    let names: Vec<&str> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"laptop") && names.contains(&"laptop-2"),
        "{seen}"
    );

    // An older agent left two peers under one name: nothing acts on "the first".
    let home = a.stop();
    let file = home.path().join("peers.json");
    let book = std::fs::read_to_string(&file).unwrap();
    assert!(book.contains("\"box-2\""), "{book}");
    std::fs::write(&file, book.replace("\"box-2\"", "\"box\"")).unwrap();
    let a = TestAgent::spawn(home, "laptop");
    let err = a.fails(&["peers", "remove", "box"]);
    assert!(
        err.contains("2 peers are called \"box\"")
            && err.contains(&b_id[..10])
            && err.contains(&c_id[..10]),
        "{err}"
    );
    let err = a.fails(&["ls", "box"]);
    assert!(err.contains("2 peers are called \"box\""), "{err}");
    assert_eq!(a.json(&["peers"]).as_array().unwrap().len(), 2);
    // By an id prefix, each can be removed; then the name is one peer's again.
    let out = a.ok(&["peers", "remove", &c_id[..8]]);
    assert!(out.contains("Removed box"), "{out}");
    let out = a.ok(&["peers", "remove", "box"]);
    assert!(out.contains(&b_id[..10]), "{out}");
    assert_eq!(a.json(&["peers"]), serde_json::json!([]));
}

//! One suite, two twins: every case runs against the SQLite table and against DynamoDB
//! (on moto server). A difference between the twins is a failure here.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};
use shared::table::{
    Condition, Index, Item, Key, Query, SortKey, StartKey, Table, TableError, Write,
};

fn item(value: Value) -> Item {
    value.as_object().cloned().expect("an object")
}

fn sk_of(item: &Item) -> String {
    item["sk"].as_str().unwrap().to_owned()
}

/// Reads every page of `query`, checking each page's size.
async fn all_pages(table: &dyn Table, query: Query) -> (Vec<String>, usize) {
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut start = None;
    loop {
        let page = table.query(&query.clone().start(start)).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= query.limit);
        if page.next.is_some() {
            assert_eq!(page.items.len(), query.limit, "only a full page has a next");
        }
        seen.extend(page.items.iter().map(sk_of));
        match page.next {
            Some(next) => start = Some(next),
            None => return (seen, pages),
        }
    }
}

async fn every_value_type_round_trips(table: &dyn Table) {
    let stored = item(json!({
        "pk": "T#a#things", "sk": "1", "version": 1,
        "text": "Zoë 张三", "empty": "", "int": -42, "big": 9007199254740993u64,
        "float": 1.5, "yes": true, "nothing": null,
        "list": [1, "two", {"three": 3}], "map": {"nested": {"deep": [true]}}
    }));
    table.put(stored.clone(), Condition::None).await.unwrap();
    let read = table.get(&Key::new("T#a#things", "1")).await.unwrap();
    assert_eq!(read, Some(stored));
    assert_eq!(table.get(&Key::new("T#a#things", "2")).await.unwrap(), None);
}

async fn create_only_if_absent(table: &dyn Table) {
    let v1 = item(json!({"pk": "T#a#x", "sk": "1", "version": 1, "n": 1}));
    table.put(v1.clone(), Condition::NotExists).await.unwrap();
    let again = item(json!({"pk": "T#a#x", "sk": "1", "version": 1, "n": 2}));
    assert!(matches!(
        table.put(again, Condition::NotExists).await,
        Err(TableError::ConditionFailed { .. })
    ));
    assert!(matches!(
        table
            .put(item(json!({"pk": "T#a#x", "sk": "2"})), Condition::Exists)
            .await,
        Err(TableError::ConditionFailed { .. })
    ));
    assert_eq!(table.get(&Key::new("T#a#x", "1")).await.unwrap(), Some(v1));
}

async fn version_checked_update(table: &dyn Table) {
    let key = Key::new("T#a#x", "1");
    table
        .put(
            item(json!({"pk": "T#a#x", "sk": "1", "version": 1})),
            Condition::NotExists,
        )
        .await
        .unwrap();
    let v2 = item(json!({"pk": "T#a#x", "sk": "1", "version": 2, "name": "new"}));
    table
        .put(v2.clone(), Condition::VersionIs(1))
        .await
        .unwrap();
    let stale = item(json!({"pk": "T#a#x", "sk": "1", "version": 2, "name": "stale"}));
    assert!(matches!(
        table.put(stale, Condition::VersionIs(1)).await,
        Err(TableError::ConditionFailed { .. })
    ));
    assert_eq!(table.get(&key).await.unwrap(), Some(v2));
    let absent = item(json!({"pk": "T#a#x", "sk": "9", "version": 2}));
    assert!(matches!(
        table.put(absent, Condition::VersionIs(1)).await,
        Err(TableError::ConditionFailed { .. })
    ));
}

async fn conditional_delete(table: &dyn Table) {
    let key = Key::new("T#a#x", "1");
    table
        .put(
            item(json!({"pk": "T#a#x", "sk": "1", "version": 3})),
            Condition::None,
        )
        .await
        .unwrap();
    assert!(matches!(
        table.delete(&key, Condition::VersionIs(2)).await,
        Err(TableError::ConditionFailed { .. })
    ));
    assert!(table.get(&key).await.unwrap().is_some());
    table.delete(&key, Condition::VersionIs(3)).await.unwrap();
    assert_eq!(table.get(&key).await.unwrap(), None);
    // Deleting nothing is fine; insisting it exists is not.
    table.delete(&key, Condition::None).await.unwrap();
    assert!(matches!(
        table.delete(&key, Condition::Exists).await,
        Err(TableError::ConditionFailed { .. })
    ));
}

async fn sort_key_conditions_and_order(table: &dyn Table) {
    // Byte order: digits < upper case < lower case < multi-byte characters.
    for sk in ["a#1", "a#2", "a#10", "A#1", "b#1", "a#é", "a"] {
        table
            .put(item(json!({"pk": "T#a#sorted", "sk": sk})), Condition::None)
            .await
            .unwrap();
    }
    table
        .put(
            item(json!({"pk": "T#a#other", "sk": "a#1"})),
            Condition::None,
        )
        .await
        .unwrap();
    let q = Query::partition("T#a#sorted").limit(100);
    let (all, _) = all_pages(table, q.clone()).await;
    assert_eq!(all, ["A#1", "a", "a#1", "a#10", "a#2", "a#é", "b#1"]);
    let (prefixed, _) =
        all_pages(table, q.clone().sort_key(SortKey::BeginsWith("a#".into()))).await;
    assert_eq!(prefixed, ["a#1", "a#10", "a#2", "a#é"]);
    let (between, _) = all_pages(
        table,
        q.clone()
            .sort_key(SortKey::Between("a#10".into(), "b#1".into()))
            .descending(),
    )
    .await;
    assert_eq!(between, ["b#1", "a#é", "a#2", "a#10"]);
    // begins_with is literal: `%` and `_` are not wildcards, case matters.
    table
        .put(
            item(json!({"pk": "T#a#sorted", "sk": "c%_"})),
            Condition::None,
        )
        .await
        .unwrap();
    let (literal, _) = all_pages(table, q.clone().sort_key(SortKey::BeginsWith("%".into()))).await;
    assert!(literal.is_empty());
    let (upper, _) = all_pages(table, q.sort_key(SortKey::BeginsWith("A".into()))).await;
    assert_eq!(upper, ["A#1"]);
}

async fn pagination_visits_every_item_once(table: &dyn Table) {
    let mut expected = Vec::new();
    for i in 0..23 {
        let sk = format!("con_{i:03}");
        expected.push(sk.clone());
        table
            .put(item(json!({"pk": "T#a#paged", "sk": sk})), Condition::None)
            .await
            .unwrap();
    }
    let (forward, pages) = all_pages(table, Query::partition("T#a#paged").limit(5)).await;
    assert_eq!(forward, expected);
    assert_eq!(pages, 5);
    let (backward, _) = all_pages(table, Query::partition("T#a#paged").limit(4).descending()).await;
    expected.reverse();
    assert_eq!(backward, expected);
    // An exact multiple of the page size ends without an empty extra page.
    let (exact, pages) = all_pages(
        table,
        Query::partition("T#a#paged")
            .sort_key(SortKey::Between("con_000".into(), "con_009".into()))
            .limit(5),
    )
    .await;
    assert_eq!(exact.len(), 10);
    assert_eq!(pages, 2);
}

async fn secondary_index_queries(table: &dyn Table) {
    // Two items share an index sort key: the base key breaks the tie, pages never overlap.
    let rows = [
        ("1", Some(("T#a#owner#u1", "2026-01-01"))),
        ("2", Some(("T#a#owner#u1", "2026-01-03"))),
        ("3", Some(("T#a#owner#u2", "2026-01-02"))),
        ("4", None),
        ("5", Some(("T#a#owner#u1", "2026-01-03"))),
        ("6", Some(("T#a#owner#u1", "2026-01-02"))),
    ];
    for (sk, gsi) in rows {
        let mut it = item(json!({"pk": "T#a#contacts", "sk": sk}));
        if let Some((gpk, gsk)) = gsi {
            it.insert("gsi1pk".into(), gpk.into());
            it.insert("gsi1sk".into(), gsk.into());
        }
        table.put(it, Condition::None).await.unwrap();
    }
    let q = Query::partition("T#a#owner#u1").on(Index::Gsi1).limit(1);
    let (seen, pages) = all_pages(table, q.clone()).await;
    assert_eq!(
        seen.len(),
        4,
        "the sparse index holds only indexed items: {seen:?}"
    );
    assert_eq!(seen[0], "1");
    assert_eq!(seen[1], "6");
    let tied: BTreeSet<_> = seen[2..].iter().cloned().collect();
    assert_eq!(tied, BTreeSet::from(["2".to_owned(), "5".to_owned()]));
    assert_eq!(pages, 4);
    let (desc, _) = all_pages(table, q.clone().descending().limit(3)).await;
    assert_eq!(desc.len(), 4);
    assert_eq!(desc[3], "1");
    let (range, _) = all_pages(
        table,
        q.sort_key(SortKey::BeginsWith("2026-01-02".into()))
            .limit(10),
    )
    .await;
    assert_eq!(range, ["6"]);
    // A secondary index can be updated out from under an item: moving it moves it.
    let mut moved = item(json!({"pk": "T#a#contacts", "sk": "6"}));
    moved.insert("gsi1pk".into(), "T#a#owner#u2".into());
    moved.insert("gsi1sk".into(), "2026-01-09".into());
    table.put(moved, Condition::None).await.unwrap();
    let (u2, _) = all_pages(
        table,
        Query::partition("T#a#owner#u2").on(Index::Gsi1).limit(10),
    )
    .await;
    assert_eq!(u2, ["3", "6"]);
}

async fn every_secondary_index_is_queryable(table: &dyn Table) {
    for index in Index::SECONDARY {
        let (ipk, isk) = index.key_names();
        for (sk, gsk) in [("1", "b"), ("2", "a"), ("3", "c")] {
            let mut it = item(json!({"pk": "T#a#many", "sk": sk}));
            it.insert(ipk.into(), format!("T#a#{ipk}").into());
            it.insert(isk.into(), gsk.into());
            table.put(it, Condition::None).await.unwrap();
        }
        let q = Query::partition(format!("T#a#{ipk}")).on(index).limit(2);
        let (seen, pages) = all_pages(table, q.clone()).await;
        assert_eq!(seen, ["2", "1", "3"], "{ipk} orders by {isk}");
        assert_eq!(pages, 2);
        let (between, _) = all_pages(
            table,
            q.sort_key(SortKey::Between("b".into(), "c".into()))
                .descending(),
        )
        .await;
        assert_eq!(between, ["3", "1"]);
    }
}

async fn a_transaction_is_all_or_nothing(table: &dyn Table) {
    table
        .put(
            item(json!({"pk": "T#a#tx", "sk": "taken", "version": 1})),
            Condition::None,
        )
        .await
        .unwrap();
    table
        .put(
            item(json!({"pk": "T#a#tx", "sk": "doomed", "version": 1})),
            Condition::None,
        )
        .await
        .unwrap();
    let writes = vec![
        Write::Put {
            item: item(json!({"pk": "T#a#tx", "sk": "new"})),
            condition: Condition::NotExists,
        },
        Write::Delete {
            key: Key::new("T#a#tx", "doomed"),
            condition: Condition::None,
        },
        Write::Put {
            item: item(json!({"pk": "T#a#tx", "sk": "taken", "version": 2})),
            condition: Condition::NotExists,
        },
    ];
    match table.transact(writes).await {
        Err(TableError::ConditionFailed { index }) => assert_eq!(index, Some(2)),
        other => panic!("expected a failed condition, got {other:?}"),
    }
    assert_eq!(table.get(&Key::new("T#a#tx", "new")).await.unwrap(), None);
    assert!(
        table
            .get(&Key::new("T#a#tx", "doomed"))
            .await
            .unwrap()
            .is_some()
    );

    let writes = vec![
        Write::Put {
            item: item(json!({"pk": "T#a#tx", "sk": "new"})),
            condition: Condition::NotExists,
        },
        Write::Delete {
            key: Key::new("T#a#tx", "doomed"),
            condition: Condition::VersionIs(1),
        },
        Write::Check {
            key: Key::new("T#a#tx", "taken"),
            condition: Condition::VersionIs(1),
        },
    ];
    table.transact(writes).await.unwrap();
    assert!(
        table
            .get(&Key::new("T#a#tx", "new"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        table.get(&Key::new("T#a#tx", "doomed")).await.unwrap(),
        None
    );

    // A failed check alone is enough to stop the writes.
    let writes = vec![
        Write::Put {
            item: item(json!({"pk": "T#a#tx", "sk": "other"})),
            condition: Condition::None,
        },
        Write::Check {
            key: Key::new("T#a#tx", "taken"),
            condition: Condition::VersionIs(7),
        },
    ];
    assert!(matches!(
        table.transact(writes).await,
        Err(TableError::ConditionFailed { index: Some(1) })
    ));
    assert_eq!(table.get(&Key::new("T#a#tx", "other")).await.unwrap(), None);
}

async fn malformed_requests_are_refused_alike(table: &dyn Table) {
    let same_key_twice = vec![
        Write::Put {
            item: item(json!({"pk": "T#a#m", "sk": "1"})),
            condition: Condition::None,
        },
        Write::Delete {
            key: Key::new("T#a#m", "1"),
            condition: Condition::None,
        },
    ];
    assert!(matches!(
        table.transact(same_key_twice).await,
        Err(TableError::Invalid(_))
    ));
    let too_many: Vec<_> = (0..101)
        .map(|i| Write::Put {
            item: item(json!({"pk": "T#a#m", "sk": i.to_string()})),
            condition: Condition::None,
        })
        .collect();
    assert!(matches!(
        table.transact(too_many).await,
        Err(TableError::Invalid(_))
    ));
    assert!(matches!(
        table.transact(vec![]).await,
        Err(TableError::Invalid(_))
    ));
    let huge = item(json!({"pk": "T#a#m", "sk": "big", "blob": "x".repeat(410 * 1024)}));
    assert!(matches!(
        table.put(huge, Condition::None).await,
        Err(TableError::Invalid(_))
    ));
    let keyless = item(json!({"pk": "T#a#m"}));
    assert!(matches!(
        table.put(keyless, Condition::None).await,
        Err(TableError::Invalid(_))
    ));
    assert_eq!(table.get(&Key::new("T#a#m", "1")).await.unwrap(), None);
    assert_eq!(table.get(&Key::new("T#a#m", "0")).await.unwrap(), None);
}

async fn a_start_key_only_resumes_its_own_partition(table: &dyn Table) {
    for sk in ["1", "2", "3"] {
        table
            .put(item(json!({"pk": "T#a#p", "sk": sk})), Condition::None)
            .await
            .unwrap();
    }
    let page = table
        .query(&Query::partition("T#a#p").limit(1))
        .await
        .unwrap();
    let next = page.next.expect("more items follow");
    let foreign = table
        .query(&Query::partition("T#b#p").limit(1).start(Some(next.clone())))
        .await;
    assert!(matches!(foreign, Err(TableError::Invalid(_))));
    let forged = StartKey(
        [("pk".to_owned(), "T#a#p".to_owned())]
            .into_iter()
            .collect(),
    );
    let forged = table
        .query(&Query::partition("T#a#p").limit(1).start(Some(forged)))
        .await;
    assert!(matches!(forged, Err(TableError::Invalid(_))));
}

async fn concurrent_updates_lose_nothing(table: Arc<dyn Table>) {
    let key = Key::new("T#a#counter", "c");
    table
        .put(
            item(json!({"pk": "T#a#counter", "sk": "c", "version": 0, "n": 0})),
            Condition::None,
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let table = table.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let current = table.get(&key).await.unwrap().unwrap();
                let version = current["version"].as_u64().unwrap();
                let mut next = current.clone();
                next.insert("n".into(), (current["n"].as_u64().unwrap() + 1).into());
                next.insert("version".into(), (version + 1).into());
                match table.put(next, Condition::VersionIs(version)).await {
                    Ok(()) => break,
                    Err(TableError::ConditionFailed { .. }) => continue,
                    Err(e) => panic!("{e}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let last = table.get(&key).await.unwrap().unwrap();
    assert_eq!(last["n"], 8);
    assert_eq!(last["version"], 8);
}

async fn concurrent_transactions_lose_nothing(table: Arc<dyn Table>) {
    // Other items in the table, as in real use (an emulator that copies the table per
    // transaction then takes long enough for the races to show).
    let filler = (0..100)
        .map(|i| Write::Put {
            item: item(
                json!({"pk": "T#a#filler", "sk": format!("{i:03}"), "text": "x".repeat(500)}),
            ),
            condition: Condition::None,
        })
        .collect();
    table.transact(filler).await.unwrap();
    let key = Key::new("T#a#counter", "t");
    table
        .put(
            item(json!({"pk": "T#a#counter", "sk": "t", "version": 0, "n": 0})),
            Condition::None,
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for task in 0..12 {
        let table = table.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let mut attempt = 0;
            loop {
                attempt += 1;
                let current = table.get(&key).await.unwrap().unwrap();
                let version = current["version"].as_u64().unwrap();
                let mut next = current.clone();
                next.insert("n".into(), (current["n"].as_u64().unwrap() + 1).into());
                next.insert("version".into(), (version + 1).into());
                // Each change writes a second, new item with it (as an audit entry does).
                let log = item(json!({"pk": "T#a#log", "sk": format!("{task}-{attempt}")}));
                let writes = vec![
                    Write::Put {
                        item: next,
                        condition: Condition::VersionIs(version),
                    },
                    Write::Put {
                        item: log,
                        condition: Condition::NotExists,
                    },
                ];
                match table.transact(writes).await {
                    Ok(()) => break,
                    Err(TableError::ConditionFailed { .. } | TableError::Conflict) => continue,
                    Err(e) => panic!("{e}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let last = table.get(&key).await.unwrap().unwrap();
    assert_eq!(last["n"], 12, "no transaction's change was lost");
    let logged = table
        .query(&Query::partition("T#a#log").limit(1000))
        .await
        .unwrap();
    assert_eq!(
        logged.items.len(),
        12,
        "exactly the successful transactions left their item"
    );
}

async fn concurrent_transactions_succeed_or_fail_alone(table: Arc<dyn Table>) {
    // The embedded twin commits concurrent requests together; each must still stand or
    // fall on its own, with its own failing write named.
    let taken = item(json!({"pk": "T#a#taken", "sk": "x"}));
    table.put(taken.clone(), Condition::None).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..40 {
        let (table, taken) = (table.clone(), taken.clone());
        tasks.push(tokio::spawn(async move {
            let mine = item(json!({"pk": "T#a#made", "sk": format!("{n:02}")}));
            let mut writes = vec![Write::Put {
                item: mine,
                condition: Condition::NotExists,
            }];
            if n % 2 == 1 {
                writes.push(Write::Put {
                    item: taken,
                    condition: Condition::NotExists,
                });
            }
            (n, table.transact(writes).await)
        }));
    }
    for task in tasks {
        let (n, result) = task.await.unwrap();
        if n % 2 == 1 {
            assert!(
                matches!(result, Err(TableError::ConditionFailed { index: Some(1) })),
                "{n}: {result:?}"
            );
        } else {
            result.unwrap();
        }
    }
    let made = table
        .query(&Query::partition("T#a#made").limit(100))
        .await
        .unwrap();
    let made: Vec<String> = made.items.iter().map(sk_of).collect();
    let expected: Vec<String> = (0..40).step_by(2).map(|n| format!("{n:02}")).collect();
    assert_eq!(
        made, expected,
        "only the transactions that succeeded left items"
    );
}

/// Declares every case for both twins, so each shows up by name in the test report.
macro_rules! conformance {
    ($($case:ident),* ; $($shared_case:ident),*) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() { super::$case(&*crate::support::sqlite_table()).await })*
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $shared_case() { super::$shared_case(crate::support::sqlite_table()).await })*
        }
        mod dynamodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() { super::$case(&*crate::support::dynamo_table().await).await })*
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $shared_case() { super::$shared_case(crate::support::dynamo_table().await).await })*
        }
    };
}

conformance!(
    every_value_type_round_trips,
    create_only_if_absent,
    version_checked_update,
    conditional_delete,
    sort_key_conditions_and_order,
    pagination_visits_every_item_once,
    secondary_index_queries,
    every_secondary_index_is_queryable,
    a_transaction_is_all_or_nothing,
    malformed_requests_are_refused_alike,
    a_start_key_only_resumes_its_own_partition;
    concurrent_updates_lose_nothing,
    concurrent_transactions_lose_nothing,
    concurrent_transactions_succeed_or_fail_alone
);

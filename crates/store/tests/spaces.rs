//! A space's settings in the store, on both backends: its booking policies (CONTRACT §11)
//! and no-show strikes (§9)
//! are stored when it is made, changed and unset by an update, and read back as written;
//! an update of statuses alone leaves them as they are.

use jiff::Timestamp;
use zs_core::series::NoShowStrikes;
use zs_core::{Limit, Policies, SpaceId, initial_status};
use zs_store::{Backend, spaces, testing};

fn at() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

async fn policies_are_stored_changed_and_unset(db: Backend) {
    let store = testing::fresh(db, "space-policies").await.unwrap();
    let mut s = testing::utc_space("s1");
    let plain = testing::utc_space("s2");
    s.settings.policies = Policies {
        max_duration: Some(Limit::hours(4)),
        min_duration: Some(Limit::minutes(15)),
        booking_horizon: Some(Limit::parse("P90D").unwrap()),
        min_notice: Some(Limit::parse("PT30M0.25S").unwrap()),
    };
    s.settings.no_show_strikes = NoShowStrikes::new(7).unwrap();
    let st = initial_status(&s, &[], at());
    let mut tx = store.begin().await.unwrap();
    assert!(spaces::insert(&mut tx, &s, &st).await.unwrap());
    assert!(spaces::insert(&mut tx, &plain, &st).await.unwrap());
    tx.commit().await.unwrap();

    let read = |id: &'static str| {
        let store = store.clone();
        async move {
            let mut c = store.read().await.unwrap();
            let id = zs_core::SpaceId::parse(id).unwrap();
            spaces::get(&mut c, &id).await.unwrap().unwrap()
        }
    };
    assert_eq!(read("s1").await.0, s);
    assert_eq!(read("s2").await.0.settings.policies, Policies::NONE);
    let default = read("s2").await.0.settings.no_show_strikes;
    assert_eq!(default, NoShowStrikes::DEFAULT);

    // A status write leaves the settings alone.
    let mut moved = st.clone();
    moved.sequence = 3;
    let mut tx = store.begin().await.unwrap();
    spaces::update_status_many(&mut tx, &[(&s, &moved)])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (again, status) = read("s1").await;
    assert_eq!((again, status.sequence), (s.clone(), 3));

    // A settings update changes one policy and unsets another.
    s.settings.policies.max_duration = Some(Limit::hours(2));
    s.settings.policies.booking_horizon = None;
    s.settings.no_show_strikes = NoShowStrikes::OFF;
    let mut tx = store.begin().await.unwrap();
    spaces::update(&mut tx, &s, &moved).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(read("s1").await.0, s);
    assert_eq!(read("s2").await.0.settings.policies, Policies::NONE);
}

/// Many spaces read at once (the timer runner's batch, the simulator's checks): each known
/// one once, in id order, whatever the order and repeats of the list; unknown ids are left
/// out. SQLite reads them one key at a time, PostgreSQL in one statement (locking them
/// inside a write transaction).
async fn many_spaces_are_read_once_each_in_id_order(db: Backend) {
    let store = testing::fresh(db, "space-many").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    for id in ["s3", "s1", "s2"] {
        let s = testing::utc_space(id);
        let st = initial_status(&s, &[], at());
        assert!(spaces::insert(&mut tx, &s, &st).await.unwrap());
    }
    tx.commit().await.unwrap();
    let ids: Vec<SpaceId> = ["s2", "nope", "s3", "s2", "s1"]
        .into_iter()
        .map(|i| SpaceId::parse(i).unwrap())
        .collect();
    let refs: Vec<&SpaceId> = ids.iter().collect();
    let names = |rows: Vec<(zs_core::Space, zs_core::SpaceStatus)>| {
        rows.into_iter()
            .map(|(s, _)| s.id.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    let mut c = store.read().await.unwrap();
    let read = spaces::get_many(&mut c, &refs).await.unwrap();
    assert_eq!(names(read), ["s1", "s2", "s3"]);
    drop(c);
    let mut tx = store.begin().await.unwrap();
    let locked = spaces::get_many_unless_busy(&mut tx, &refs).await.unwrap();
    assert_eq!(names(locked), ["s1", "s2", "s3"]);
    assert!(spaces::get_many(&mut tx, &[]).await.unwrap().is_empty());
    tx.commit().await.unwrap();
}

zs_store::test_on_both_backends!(
    policies_are_stored_changed_and_unset,
    many_spaces_are_read_once_each_in_id_order
);

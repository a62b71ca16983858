//! Ownership in the store, on both backends: a booking's owner (with its space, as a
//! command's check reads them), a token's space limit (read with the token, listed, and
//! emptied, never dropped, when its space is deleted), and a deleted space's last sequence.

use jiff::Timestamp;
use zs_core::{Booking, BookingId, BookingStatus, SpaceId, initial_status};
use zs_store::auth::{self, TokenRecord};
use zs_store::{Backend, bookings, spaces, testing};

fn at() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

fn booking(id: &str, space: &str) -> Booking {
    Booking {
        id: BookingId::parse(id).unwrap(),
        space_id: SpaceId::parse(space).unwrap(),
        title: id.into(),
        start: at(),
        end: at() + jiff::SignedDuration::from_mins(5),
        status: BookingStatus::Completed,
        created_at: at(),
        checked_in_at: None,
        ended_at: None,
        cancelled_at: None,
        cancel_reason: None,
        series_id: None,
    }
}

async fn owners_limits_and_deleted_sequences(db: Backend) {
    let store = testing::fresh(db, "ownership").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    for id in ["s1", "s2"] {
        let s = testing::utc_space(id);
        let mut st = initial_status(&s, &[], at());
        st.sequence = 7;
        spaces::insert(&mut tx, &s, &st).await.unwrap();
    }
    let (mine, theirs) = (booking("mine", "s1"), booking("theirs", "s1"));
    bookings::upsert_many(&mut tx, &[&mine, &theirs])
        .await
        .unwrap();
    bookings::set_owner(&mut tx, &mine.id, "tok_a")
        .await
        .unwrap();
    let panel = TokenRecord {
        id: "tok_p".into(),
        role: "device".into(),
        label: "panel".into(),
        space_ids: Some(vec!["s1".into(), "s2".into()]),
    };
    auth::insert_token(&mut tx, "hash-p", &panel, at())
        .await
        .unwrap();
    let member = TokenRecord {
        id: "tok_a".into(),
        role: "member".into(),
        label: String::new(),
        space_ids: None,
    };
    auth::insert_token(&mut tx, "hash-a", &member, at())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut c = store.read().await.unwrap();
    let (_, owner) = bookings::get_owned(&mut c, &mine.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.as_deref(), Some("tok_a"));
    let (_, owner) = bookings::get_owned(&mut c, &theirs.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner, None);
    // A command's check reads the same space and owner, and nothing for an unknown id.
    let s1 = SpaceId::parse("s1").unwrap();
    assert_eq!(
        bookings::space_and_owner(&mut c, &mine.id).await.unwrap(),
        Some((s1.clone(), Some("tok_a".to_owned())))
    );
    assert_eq!(
        bookings::space_and_owner(&mut c, &theirs.id).await.unwrap(),
        Some((s1, None))
    );
    let unknown = BookingId::parse("unknown").unwrap();
    assert_eq!(
        bookings::space_and_owner(&mut c, &unknown).await.unwrap(),
        None
    );
    let owned = bookings::list_owned(&mut c, Some("tok_a"), None, None, None, 10)
        .await
        .unwrap();
    assert_eq!(owned.len(), 1);
    assert_eq!(owned[0].id, mine.id);
    assert_eq!(
        auth::token_by_hash(&mut c, "hash-p").await.unwrap(),
        Some(panel.clone())
    );
    assert_eq!(
        auth::token_by_hash(&mut c, "hash-a").await.unwrap(),
        Some(member.clone())
    );
    drop(c);

    // Deleting s1: its bookings go, the panel keeps s2 only; deleting s2 leaves it `[]`.
    let s1 = SpaceId::parse("s1").unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(spaces::delete(&mut tx, &s1, at()).await.unwrap());
    assert!(!spaces::delete(&mut tx, &s1, at()).await.unwrap());
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    assert!(
        bookings::get_owned(&mut c, &mine.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        bookings::space_and_owner(&mut c, &mine.id)
            .await
            .unwrap()
            .is_none()
    );
    let limit = |t: Option<TokenRecord>| t.unwrap().space_ids;
    assert_eq!(
        limit(auth::token_by_hash(&mut c, "hash-p").await.unwrap()),
        Some(vec!["s2".to_owned()])
    );
    assert_eq!(
        spaces::deleted_sequence(&mut c, &s1).await.unwrap(),
        Some(7)
    );
    drop(c);
    let mut tx = store.begin().await.unwrap();
    spaces::delete(&mut tx, &SpaceId::parse("s2").unwrap(), at())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    assert_eq!(
        limit(auth::token_by_hash(&mut c, "hash-p").await.unwrap()),
        Some(vec![])
    );
    let listed = auth::list_tokens(&mut c).await.unwrap();
    let by_id = |id: &str| {
        listed
            .iter()
            .find(|t| t.record.id == id)
            .unwrap()
            .record
            .space_ids
            .clone()
    };
    assert_eq!((by_id("tok_p"), by_id("tok_a")), (Some(vec![]), None));
    drop(c);

    // Revoking removes its limit rows with it.
    let mut tx = store.begin().await.unwrap();
    assert!(auth::delete_token(&mut tx, "tok_p").await.unwrap());
    tx.commit().await.unwrap();
    let mut c = store.read().await.unwrap();
    assert_eq!(auth::token_by_hash(&mut c, "hash-p").await.unwrap(), None);
}

zs_store::test_on_both_backends!(owners_limits_and_deleted_sequences);

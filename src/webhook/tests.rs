use super::*;

const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_796_119_200;
const BODY: &[u8] = br#"{"type":"event","id":"wevt_1","created_at":"2026-12-01T10:00:00Z","data":{"type":"session.idled","id":"sesn_1","organization_id":"o"}}"#;

fn verifier() -> Verifier {
    Verifier::new(KEY).unwrap()
}

fn check(sig: &str, ts: i64, body: &[u8], now: i64) -> Result<i64, Refusal> {
    let ts = ts.to_string();
    let h = Headers {
        id: Some("msg_1"),
        timestamp: Some(&ts),
        signature: Some(sig),
    };
    verifier().verify(&h, body, now)
}

#[test]
fn a_delivery_signed_with_the_key_is_accepted() {
    let sig = verifier().sign("msg_1", NOW, BODY);
    assert_eq!(check(&sig, NOW, BODY, NOW), Ok(NOW));
}

#[test]
fn the_standard_webhooks_reference_vector_verifies() {
    // The example of the Standard Webhooks specification (and its libraries' tests).
    let v = Verifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let h = Headers {
        id: Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
        timestamp: Some("1614265330"),
        signature: Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
    };
    let body = br#"{"test": 2432232314}"#;
    assert_eq!(v.verify(&h, body, 1_614_265_330), Ok(1_614_265_330));
}

#[test]
fn a_delivery_signed_with_another_key_is_refused() {
    let other = Verifier::new("whsec_c2VjcmV0LWJ1dC1ub3QtdGhlLXJpZ2h0LW9uZQ==").unwrap();
    let sig = other.sign("msg_1", NOW, BODY);
    assert_eq!(check(&sig, NOW, BODY, NOW), Err(Refusal::NoValidSignature));
}

#[test]
fn one_changed_body_byte_is_refused() {
    let sig = verifier().sign("msg_1", NOW, BODY);
    let mut body = BODY.to_vec();
    body[10] ^= 1;
    assert_eq!(check(&sig, NOW, &body, NOW), Err(Refusal::NoValidSignature));
}

#[test]
fn a_timestamp_over_five_minutes_old_is_stale_and_five_minutes_is_not() {
    let old = NOW - 301;
    let sig = verifier().sign("msg_1", old, BODY);
    assert_eq!(check(&sig, old, BODY, NOW), Err(Refusal::Stale));
    let edge = NOW - 300;
    let sig = verifier().sign("msg_1", edge, BODY);
    assert_eq!(check(&sig, edge, BODY, NOW), Ok(edge));
}

#[test]
fn a_timestamp_over_five_minutes_ahead_is_refused() {
    let ahead = NOW + 301;
    let sig = verifier().sign("msg_1", ahead, BODY);
    assert_eq!(check(&sig, ahead, BODY, NOW), Err(Refusal::Future));
}

#[test]
fn any_one_valid_signature_among_several_is_enough() {
    let good = verifier().sign("msg_1", NOW, BODY);
    let bad = Verifier::new("whsec_b3RoZXI=")
        .unwrap()
        .sign("msg_1", NOW, BODY);
    let list = format!("v2,abc {bad} v1,!!notbase64 {good}");
    assert_eq!(check(&list, NOW, BODY, NOW), Ok(NOW));
}

#[test]
fn malformed_headers_are_refused_by_name() {
    let good = verifier().sign("msg_1", NOW, BODY);
    for sig in ["", "v1", "v1,", "garbage", &good.replace("v1,", "v1 ")] {
        assert_eq!(
            check(sig, NOW, BODY, NOW),
            Err(Refusal::NoValidSignature),
            "{sig}"
        );
    }
    let h = Headers {
        id: Some("msg_1"),
        timestamp: Some("yesterday"),
        signature: Some(&good),
    };
    assert_eq!(verifier().verify(&h, BODY, NOW), Err(Refusal::BadTimestamp));
    let h = Headers { id: None, ..h };
    assert_eq!(
        verifier().verify(&h, BODY, NOW),
        Err(Refusal::MissingHeader("webhook-id"))
    );
    let h = Headers::default();
    assert!(matches!(
        verifier().verify(&h, BODY, NOW),
        Err(Refusal::MissingHeader(_))
    ));
}

#[test]
fn a_key_that_is_not_base64_is_refused() {
    assert_eq!(Verifier::new("whsec_").unwrap_err(), Refusal::BadKey);
    assert_eq!(
        Verifier::new("whsec_not base64!").unwrap_err(),
        Refusal::BadKey
    );
    assert_eq!(Verifier::new("").unwrap_err(), Refusal::BadKey);
    // Unpadded base64 is the same key, as the reference libraries read it.
    let unpadded = Verifier::new("whsec_c2VjcmV0").unwrap();
    let padded = Verifier::new("whsec_c2VjcmV0").unwrap();
    assert_eq!(unpadded.sign("m", 1, b"x"), padded.sign("m", 1, b"x"));
}

#[test]
fn the_payload_keeps_unknown_types_and_ignores_unknown_fields() {
    let d = Delivery::parse(BODY).unwrap();
    assert_eq!(
        (d.id.as_str(), d.data.kind.as_str()),
        ("wevt_1", "session.idled")
    );
    assert_eq!(reaction(&d.data.kind), Reaction::Confirm);
    let d = Delivery::parse(
        br#"{"type":"event","id":"wevt_2","created_at":"x","extra":1,"data":{"type":"widget.spun","id":"w_1"}}"#,
    )
    .unwrap();
    assert_eq!(d.data.kind, "widget.spun");
    assert_eq!(reaction(&d.data.kind), Reaction::Ignore);
    assert_eq!(reaction("session.status_run_started"), Reaction::Record);
    assert!(Delivery::parse(br#"{"type":"event","id":"wevt_3"}"#).is_none());
    assert!(Delivery::parse(b"not json").is_none());
}

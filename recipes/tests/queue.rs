//! Queues across sessions: FIFO, priority, delay and id order; every item
//! taken exactly once by several consumers and producers, also while
//! connections are cut, after a session expires and when takes are
//! cancelled.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::{TestEnv, cut_repeatedly, eventually, kill_session, wait_generation, within};
use zk_recipes::{
    DistributedDelayQueue, DistributedIdQueue, DistributedPriorityQueue, DistributedQueue,
};

/// How long a `try_take` that must come back empty waits.
const SHORT: Duration = Duration::from_millis(200);

fn item(producer: usize, n: usize) -> Vec<u8> {
    format!("{producer}:{n:04}").into_bytes()
}

fn parse(data: &[u8]) -> (usize, usize) {
    let text = std::str::from_utf8(data).expect("utf-8");
    let (p, n) = text.split_once(':').expect("producer:n");
    (p.parse().expect("producer"), n.parse().expect("n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_order_peek_and_len() {
    let env = TestEnv::new().await;
    let fw = env.framework().await;
    let queue = DistributedQueue::new(&fw, "/q/fifo");
    assert!(queue.is_empty().await.expect("len"));
    assert_eq!(queue.peek().await.expect("peek"), None);
    for n in 0..5 {
        queue.put(&item(0, n)).await.expect("put");
    }
    assert_eq!(queue.len().await.expect("len"), 5);
    assert_eq!(queue.peek().await.expect("peek"), Some(item(0, 0)));
    for n in 0..5 {
        assert_eq!(
            within("take", queue.take()).await.expect("take"),
            item(0, n)
        );
    }
    assert_eq!(
        queue.try_take(Duration::ZERO).await.expect("try_take"),
        None
    );
    assert_eq!(queue.try_take(SHORT).await.expect("try_take"), None);
    // Items are plain `qn-<seq>` nodes; the markers live one level down
    // and are deleted after each put and take.
    let client = fw.client();
    queue.put(b"x").await.expect("put");
    let (kids, _) = client.get_children("/q/fifo").await.expect("children");
    let mut kids: Vec<_> = kids.into_iter().filter(|k| k != "_markers").collect();
    kids.sort();
    assert_eq!(kids.len(), 1);
    assert!(
        kids[0].starts_with("qn-") && kids[0].len() == 13,
        "{kids:?}"
    );
    let (markers, _) = client
        .get_children("/q/fifo/_markers")
        .await
        .expect("markers");
    assert!(markers.is_empty(), "{markers:?}");
    env.finish(&[fw]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_take_gets_the_next_put() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let consumer = DistributedQueue::new(&fws[0], "/q/wait");
    let taker = tokio::spawn(async move { consumer.take().await });
    // Whenever the consumer got to waiting, the put wakes it.
    DistributedQueue::new(&fws[1], "/q/wait")
        .put(b"late")
        .await
        .expect("put");
    let got = within("take", taker).await.expect("join").expect("take");
    assert_eq!(got, b"late");
    env.finish(&fws).await;
}

/// Producers put up to `per_producer` items each (fewer if `stop` is set
/// first); consumers take until all are taken. Returns how many each
/// producer put and what each consumer took, in its order.
async fn produce_and_consume(
    producers: Vec<DistributedQueue>,
    consumers: Vec<DistributedQueue>,
    per_producer: usize,
    stop: Arc<AtomicBool>,
) -> (Vec<usize>, Vec<Vec<Vec<u8>>>) {
    let taken = Arc::new(AtomicUsize::new(0));
    // usize::MAX until the producers are done.
    let total = Arc::new(AtomicUsize::new(usize::MAX));
    let mut puts = Vec::new();
    for (p, queue) in producers.into_iter().enumerate() {
        let stop = stop.clone();
        puts.push(tokio::spawn(async move {
            let mut n = 0;
            while n < per_producer && !stop.load(Ordering::SeqCst) {
                queue.put(&item(p, n)).await.expect("put");
                n += 1;
            }
            n
        }));
    }
    let mut takes = Vec::new();
    for queue in consumers {
        let (taken, total) = (taken.clone(), total.clone());
        takes.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while taken.load(Ordering::SeqCst) < total.load(Ordering::SeqCst) {
                if let Some(data) = queue.try_take(SHORT).await.expect("take") {
                    taken.fetch_add(1, Ordering::SeqCst);
                    mine.push(data);
                }
            }
            mine
        }));
    }
    let mut put = Vec::new();
    for p in puts {
        put.push(within("producers", p).await.expect("producer"));
    }
    total.store(put.iter().sum(), Ordering::SeqCst);
    let mut out = Vec::new();
    for take in takes {
        out.push(within("consumers", take).await.expect("consumer"));
    }
    (put, out)
}

/// Every item exactly once, and (`in_order`) each consumer saw each
/// producer's items in the order they were put (a take always gets the
/// lowest sequence left; only an item whose take was cut short goes back,
/// at the end).
fn check_exactly_once(per_consumer: &[Vec<Vec<u8>>], put: &[usize], in_order: bool) {
    let mut seen = BTreeMap::new();
    for taken in per_consumer {
        let mut last: BTreeMap<usize, usize> = BTreeMap::new();
        for data in taken {
            let (p, n) = parse(data);
            *seen.entry((p, n)).or_insert(0) += 1;
            if let Some(prev) = last.insert(p, n)
                && in_order
            {
                assert!(prev < n, "producer {p}: {n} taken after {prev}");
            }
        }
    }
    let dups: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).collect();
    assert!(dups.is_empty(), "taken more than once: {dups:?}");
    let expected: BTreeSet<_> = put
        .iter()
        .enumerate()
        .flat_map(|(p, count)| (0..*count).map(move |n| (p, n)))
        .collect();
    let got: BTreeSet<_> = seen.keys().copied().collect();
    assert_eq!(got, expected, "items lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_is_taken_once_by_many_consumers() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(6).await;
    let producers: Vec<_> = fws[..2]
        .iter()
        .map(|fw| DistributedQueue::new(fw, "/q/many"))
        .collect();
    let consumers: Vec<_> = fws[2..]
        .iter()
        .map(|fw| DistributedQueue::new(fw, "/q/many"))
        .collect();
    let never = Arc::new(AtomicBool::new(false));
    let (put, taken) = produce_and_consume(producers, consumers, 40, never).await;
    assert_eq!(put, [40, 40]);
    check_exactly_once(&taken, &put, true);
    assert!(fws[0].client().get_children("/q/many").await.is_ok());
    assert_eq!(
        DistributedQueue::new(&fws[0], "/q/many")
            .len()
            .await
            .expect("len"),
        0
    );
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_while_connections_drop() {
    let env = TestEnv::new().await;
    let mut fws = env.frameworks(2).await;
    let mut proxies = Vec::new();
    for _ in 0..3 {
        let (fw, proxy) = env.proxied_framework().await;
        fws.push(fw);
        proxies.push(Arc::new(proxy));
    }
    // Producers: one direct, one through a proxy; consumers: one direct,
    // two through proxies.
    let q = |i: usize| DistributedQueue::new(&fws[i], "/q/cuts");
    let producers = vec![q(0), q(2)];
    let consumers = vec![q(1), q(3), q(4)];
    let stop = Arc::new(AtomicBool::new(false));
    let cutter = cut_repeatedly(&proxies, 30, stop.clone());
    let (put, taken) = produce_and_consume(producers, consumers, usize::MAX, stop).await;
    within("cutter", cutter).await.expect("cutter");
    // A `try_take` whose timeout passed while its client was cut off puts
    // back what its claim took: order is not checked here.
    check_exactly_once(&taken, &put, false);
    // No session expired: the cuts were short.
    for fw in &fws {
        assert_eq!(fw.current().generation, 1);
    }
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_take_carries_on_with_the_next_session() {
    let env = TestEnv::new().await;
    let producer_fw = env.framework().await;
    let (consumer_fw, proxy) = env.proxied_framework().await;
    let producer = DistributedQueue::new(&producer_fw, "/q/expiry");
    let consumer = DistributedQueue::new(&consumer_fw, "/q/expiry");
    // A first item, so the consumer's session has been used for the queue.
    producer.put(b"first").await.expect("put");
    assert_eq!(
        within("first take", consumer.take()).await.expect("take"),
        b"first"
    );
    let old = consumer_fw.client();
    let taker = tokio::spawn(async move { consumer.take().await });
    kill_session(&env, &proxy, &old).await;
    proxy.restore();
    wait_generation(&consumer_fw, 2).await;
    producer.put(b"second").await.expect("put");
    assert_eq!(
        within("second take", taker)
            .await
            .expect("join")
            .expect("take"),
        b"second"
    );
    env.finish(&[producer_fw, consumer_fw]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_takes_lose_nothing() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(3).await;
    let producer = DistributedQueue::new(&fws[0], "/q/cancel");
    let total = 40;
    for n in 0..total {
        producer.put(&item(0, n)).await.expect("put");
    }
    // Takes given a few ms each: many are dropped part way, some while
    // their multi is in flight.
    let got = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for fw in &fws[1..] {
        let queue = DistributedQueue::new(fw, "/q/cancel");
        let got = got.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..30 {
                let budget = Duration::from_millis(1 + fastrand::u64(..8));
                if let Ok(taken) = tokio::time::timeout(budget, queue.take()).await {
                    got.lock().expect("lock").push(taken.expect("take"));
                }
            }
        }));
    }
    for t in tasks {
        within("cancelling takers", t).await.expect("taker");
    }
    // What a cancelled take had taken is put back in the background: drain
    // until every item has turned up.
    let drain = DistributedQueue::new(&fws[1], "/q/cancel");
    eventually("every item taken", || async {
        while let Some(data) = drain.try_take(Duration::ZERO).await.expect("take") {
            got.lock().expect("lock").push(data);
        }
        got.lock().expect("lock").len() >= total
    })
    .await;
    // Put-back items come at the end: the order is not checked here.
    let mut all = got.lock().expect("lock").clone();
    all.sort();
    check_exactly_once(&[all], &[total], true);
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priority_queue_takes_lowest_priority_first() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let producer = DistributedPriorityQueue::new(&fws[0], "/q/prio");
    for (data, prio) in [
        (&b"c"[..], 5),
        (b"a", -1),
        (b"d", i32::MAX),
        (b"b", -1),
        (b"z", i32::MIN),
        (b"m", 0),
    ] {
        producer.put(data, prio).await.expect("put");
    }
    assert_eq!(producer.len().await.expect("len"), 6);
    assert_eq!(
        producer.peek().await.expect("peek"),
        Some((b"z".to_vec(), i32::MIN))
    );
    let consumer = DistributedPriorityQueue::new(&fws[1], "/q/prio");
    // The consumer may be on another member of an ensemble.
    fws[1].client().sync("/").await.expect("sync");
    let mut order = Vec::new();
    while let Some((data, prio)) = consumer.try_take(Duration::ZERO).await.expect("take") {
        order.push((String::from_utf8(data).expect("utf-8"), prio));
    }
    let want = [
        ("z", i32::MIN),
        ("a", -1),
        ("b", -1),
        ("m", 0),
        ("c", 5),
        ("d", i32::MAX),
    ];
    assert_eq!(
        order,
        want.iter()
            .map(|(d, p)| (d.to_string(), *p))
            .collect::<Vec<_>>()
    );
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priority_queue_exactly_once_with_many_consumers() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(4).await;
    let producer = DistributedPriorityQueue::new(&fws[0], "/q/prio-many");
    for n in 0..60 {
        producer
            .put(&item(0, n), (n % 3) as i32)
            .await
            .expect("put");
    }
    let mut tasks = Vec::new();
    for fw in &fws[1..] {
        let queue = DistributedPriorityQueue::new(fw, "/q/prio-many");
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some((data, prio)) = queue.try_take(Duration::ZERO).await.expect("take") {
                mine.push((prio, data));
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        let mine = within("consumers", t).await.expect("consumer");
        // Each consumer sees priorities never go down (nothing is put
        // meanwhile).
        assert!(mine.windows(2).all(|w| w[0].0 <= w[1].0), "{mine:?}");
        all.push(mine.into_iter().map(|(_, d)| d).collect::<Vec<_>>());
    }
    let mut flat: Vec<_> = all.concat();
    flat.sort();
    check_exactly_once(&[flat], &[60], true);
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_queue_holds_items_until_due() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let producer = DistributedDelayQueue::new(&fws[0], "/q/delay");
    let consumer = DistributedDelayQueue::new(&fws[1], "/q/delay");
    producer
        .put_after(b"much later", Duration::from_secs(3600))
        .await
        .expect("put");
    assert_eq!(consumer.try_take(Duration::ZERO).await.expect("take"), None);
    assert_eq!(consumer.peek().await.expect("peek"), None);
    assert_eq!(consumer.len().await.expect("len"), 1);

    // Due soon, put after the far one: it comes out first, and not early.
    let due = SystemTime::now() + Duration::from_millis(400);
    producer.put(b"soon", due).await.expect("put");
    producer
        .put(b"overdue", SystemTime::now() - Duration::from_secs(5))
        .await
        .expect("put");
    let (first, _) = within("overdue", consumer.take()).await.expect("take");
    assert_eq!(first, b"overdue");
    let (second, second_due) = within("soon", consumer.take()).await.expect("take");
    assert_eq!(second, b"soon");
    assert!(SystemTime::now() >= second_due, "taken before it was due");
    assert_eq!(consumer.len().await.expect("len"), 1);
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_queue_wakes_for_an_earlier_item() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let producer = DistributedDelayQueue::new(&fws[0], "/q/delay-wake");
    producer
        .put_after(b"far", Duration::from_secs(3600))
        .await
        .expect("put");
    let consumer = DistributedDelayQueue::new(&fws[1], "/q/delay-wake");
    let taker = tokio::spawn(async move { consumer.take().await });
    // The waiting consumer sleeps until the far item, or a change: this put
    // is the change.
    producer
        .put_after(b"near", Duration::from_millis(100))
        .await
        .expect("put");
    let (data, _) = within("near item", taker)
        .await
        .expect("join")
        .expect("take");
    assert_eq!(data, b"near");
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_queue_removes_by_id() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(2).await;
    let queue = DistributedIdQueue::new(&fws[0], "/q/ids");
    for (id, data) in [("a", &b"1"[..]), ("b-2", b"2"), ("a", b"3"), ("c", b"4")] {
        queue.put(id, data).await.expect("put");
    }
    assert!(queue.put("bad/id", b"x").await.is_err());
    assert!(queue.put("", b"x").await.is_err());
    assert_eq!(queue.ids().await.expect("ids"), ["a", "b-2", "a", "c"]);
    let other = DistributedIdQueue::new(&fws[1], "/q/ids");
    fws[1].client().sync("/").await.expect("sync");
    assert_eq!(other.remove("a").await.expect("remove"), 2);
    assert_eq!(other.remove("a").await.expect("remove"), 0);
    assert_eq!(
        other.peek().await.expect("peek"),
        Some(("b-2".to_owned(), b"2".to_vec()))
    );
    assert_eq!(
        within("take", other.take()).await.expect("take"),
        ("b-2".to_owned(), b"2".to_vec())
    );
    fws[0].client().sync("/").await.expect("sync");
    assert_eq!(queue.len().await.expect("len"), 1);
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_queue_remove_and_take_race_fairly() {
    let env = TestEnv::new().await;
    let fws = env.frameworks(3).await;
    let queue = DistributedIdQueue::new(&fws[0], "/q/ids-race");
    let total = 30;
    for n in 0..total {
        queue
            .put(&format!("id{n}"), &item(0, n))
            .await
            .expect("put");
    }
    for fw in &fws[1..] {
        fw.client().sync("/").await.expect("sync");
    }
    let remover = DistributedIdQueue::new(&fws[1], "/q/ids-race");
    let removing = tokio::spawn(async move {
        let mut removed = 0;
        for n in 0..total {
            removed += remover.remove(&format!("id{n}")).await.expect("remove");
        }
        removed
    });
    let taker = DistributedIdQueue::new(&fws[2], "/q/ids-race");
    let taking = tokio::spawn(async move {
        let mut taken = Vec::new();
        while let Some((id, _)) = taker.try_take(Duration::ZERO).await.expect("take") {
            taken.push(id);
        }
        taken
    });
    let removed = within("remover", removing).await.expect("remover");
    let taken = within("taker", taking).await.expect("taker");
    let unique: BTreeSet<_> = taken.iter().collect();
    assert_eq!(unique.len(), taken.len(), "an item taken twice");
    // Each item went one way, or is still there (the taker may have
    // finished while the remover had not reached it).
    let left = queue.len().await.expect("len");
    assert_eq!(removed + taken.len() + left, total);
    env.finish(&fws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_take_keeps_its_timeout_while_disconnected() {
    let env = TestEnv::new().await;
    let producer_fw = env.framework().await;
    let (fw, proxy) = env.proxied_framework().await;
    let consumer = DistributedQueue::new(&fw, "/q/cut-timeout");
    assert_eq!(consumer.try_take(SHORT).await.expect("take"), None);
    proxy.cut();
    // Its calls queue until the client is back; the timeout still ends it.
    let got = within("try_take while cut", consumer.try_take(SHORT)).await;
    assert_eq!(got.expect("take"), None);
    proxy.restore();
    let producer = DistributedQueue::new(&producer_fw, "/q/cut-timeout");
    producer.put(b"after").await.expect("put");
    assert_eq!(
        within("take", consumer.take()).await.expect("take"),
        b"after"
    );
    env.finish(&[producer_fw, fw]).await;
}

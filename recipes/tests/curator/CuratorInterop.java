// Apache Curator's side of recipes/tests/curator_interop.rs.
//
//   java CuratorInterop MODE CONNECT NAMESPACE ARGS...
//
//   mutex PATH COUNTER THREADS N   after "go": THREADS threads, each with its
//                                  own InterProcessMutex, increment COUNTER N
//                                  times under the lock
//   latch PATH ID                  a LeaderLatch; commands: participants, close
//   rw PATH                        an InterProcessReadWriteLock; commands:
//                                  read, unread, write, unwrite
//   discovery BASE NAME ID ADDRESS PORT
//                                  registers an instance (payload {"zone":"eu-1"});
//                                  command: query NAME
//
// Commands come one per line on stdin ("exit" ends); results go to stdout
// as lines "WORD details". Any failure prints "ERROR ..." and exits with 1.
// Every wait is bounded, and the process exits when stdin closes (the test
// is gone) or after two minutes, whatever happens.

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.utils.ZKPaths;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

public class CuratorInterop {
    static final long WAIT_SECONDS = 30;
    static final BlockingQueue<String> commands = new LinkedBlockingQueue<>();

    static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static void fail(Throwable e) {
        say("ERROR " + e);
        e.printStackTrace();
        System.exit(1);
    }

    /** The next command; fails when none comes in time. */
    static String command() throws InterruptedException {
        String line = commands.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        if (line == null) {
            throw new IllegalStateException("no command in " + WAIT_SECONDS + " s");
        }
        return line;
    }

    static void daemon(Runnable body) {
        Thread t = new Thread(body);
        t.setDaemon(true);
        t.start();
    }

    public static void main(String[] args) {
        daemon(() -> {
            try {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null; ) {
                    commands.add(line.trim());
                }
            } catch (Exception e) {
                // Treated as end of input.
            }
            System.exit(2);
        });
        daemon(() -> {
            try {
                Thread.sleep(120_000);
            } catch (InterruptedException e) {
                return;
            }
            say("ERROR watchdog: still running after two minutes");
            System.exit(3);
        });
        try {
            run(args);
            System.exit(0);
        } catch (Throwable e) {
            fail(e);
        }
    }

    static void run(String[] args) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(args[1])
                .namespace(args[2])
                .sessionTimeoutMs(10_000)
                .connectionTimeoutMs(10_000)
                .retryPolicy(new ExponentialBackoffRetry(100, 5))
                .build();
        client.start();
        if (!client.blockUntilConnected((int) WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("not connected in time");
        }
        switch (args[0]) {
            case "mutex" -> mutex(client, args[3], args[4], Integer.parseInt(args[5]), Integer.parseInt(args[6]));
            case "latch" -> latch(client, args[3], args[4]);
            case "rw" -> readWrite(client, args[3]);
            case "discovery" -> discovery(client, args[3], args[4], args[5], args[6], Integer.parseInt(args[7]));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
        client.close();
        say("EXITED");
    }

    static void mutex(CuratorFramework client, String path, String counter, int threads, int n) throws Exception {
        say("READY");
        if (!command().equals("go")) {
            throw new IllegalStateException("expected go");
        }
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                try {
                    InterProcessMutex lock = new InterProcessMutex(client, path);
                    for (int i = 0; i < n; i++) {
                        if (!lock.acquire(WAIT_SECONDS, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("lock not acquired in time");
                        }
                        try {
                            increment(client, lock, counter);
                        } finally {
                            lock.release();
                        }
                    }
                } catch (Throwable e) {
                    fail(e);
                }
            });
            w.start();
            workers.add(w);
        }
        for (Thread w : workers) {
            w.join();
        }
        say("DONE");
        if (!command().equals("exit")) {
            throw new IllegalStateException("expected exit");
        }
    }

    /** The critical section: an "inside" marker that only one holder can create, then get + set. */
    static void increment(CuratorFramework client, InterProcessMutex lock, String counter) throws Exception {
        try {
            client.create().withMode(CreateMode.EPHEMERAL).forPath("/inside");
        } catch (KeeperException.NodeExistsException e) {
            say("OVERLAP");
            System.exit(1);
        }
        // The holder's node is the first contender.
        say("NODE " + ZKPaths.getNodeFromPath(lock.getParticipantNodes().iterator().next()));
        int value = Integer.parseInt(new String(client.getData().forPath(counter), StandardCharsets.UTF_8));
        client.setData().forPath(counter, Integer.toString(value + 1).getBytes(StandardCharsets.UTF_8));
        client.delete().forPath("/inside");
    }

    static void latch(CuratorFramework client, String path, String id) throws Exception {
        LeaderLatch latch = new LeaderLatch(client, path, id);
        latch.addListener(new LeaderLatchListener() {
            public void isLeader() {
                say("LEADER");
            }

            public void notLeader() {
                say("NOT_LEADER");
            }
        });
        latch.start();
        say("STARTED");
        for (String c; !(c = command()).equals("exit"); ) {
            switch (c) {
                case "participants" -> {
                    List<String> ids = new ArrayList<>();
                    for (Participant p : latch.getParticipants()) {
                        ids.add((p.isLeader() ? "*" : "") + p.getId());
                    }
                    say("PARTICIPANTS " + String.join(",", ids));
                }
                case "close" -> {
                    latch.close();
                    say("CLOSED");
                }
                default -> throw new IllegalArgumentException("unknown command " + c);
            }
        }
    }

    static void readWrite(CuratorFramework client, String path) throws Exception {
        InterProcessReadWriteLock lock = new InterProcessReadWriteLock(client, path);
        for (String c; !(c = command()).equals("exit"); ) {
            switch (c) {
                case "read" -> acquire(lock.readLock(), "READ_HELD");
                case "write" -> acquire(lock.writeLock(), "WRITE_HELD");
                case "unread" -> {
                    lock.readLock().release();
                    say("READ_RELEASED");
                }
                case "unwrite" -> {
                    lock.writeLock().release();
                    say("WRITE_RELEASED");
                }
                default -> throw new IllegalArgumentException("unknown command " + c);
            }
        }
    }

    static void acquire(InterProcessMutex lock, String held) throws Exception {
        if (!lock.acquire(WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("not acquired in time: " + held);
        }
        say(held);
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    static void discovery(CuratorFramework client, String base, String name, String id, String address, int port)
            throws Exception {
        ServiceDiscovery<Map> discovery = ServiceDiscoveryBuilder.builder(Map.class)
                .client(client)
                .basePath(base)
                .build();
        discovery.start();
        // A mutable map: Jackson records the payload's class, and
        // Map.of's immutable class could not be read back.
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("zone", "eu-1");
        ServiceInstance<Map> me = ServiceInstance.<Map>builder()
                .name(name)
                .id(id)
                .address(address)
                .port(port)
                .payload(payload)
                .build();
        discovery.registerService(me);
        say("REGISTERED");
        ObjectMapper json = new ObjectMapper();
        for (String c; !(c = command()).equals("exit"); ) {
            if (!c.startsWith("query ")) {
                throw new IllegalArgumentException("unknown command " + c);
            }
            // What Curator read, field by field, as one JSON object a line.
            for (ServiceInstance<Map> i : discovery.queryForInstances(c.substring(6))) {
                Map<String, Object> seen = new LinkedHashMap<>();
                seen.put("name", i.getName());
                seen.put("id", i.getId());
                seen.put("address", i.getAddress());
                seen.put("port", i.getPort());
                seen.put("sslPort", i.getSslPort());
                seen.put("payload", i.getPayload());
                seen.put("serviceType", i.getServiceType().name());
                seen.put("enabled", i.isEnabled());
                seen.put("registrationTimeUTC", i.getRegistrationTimeUTC());
                say("INSTANCE " + json.writeValueAsString(seen));
            }
            say("END");
        }
        discovery.close();
    }
}

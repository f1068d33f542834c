package org.imagingpipeline.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A cluster node's settings (no broker started): quorum, replication, and a data folder never joined to another cluster. */
class KraftBrokerConfigTest {
    @TempDir
    Path dir;

    @Test
    void aNodeOfThreeReplicatesInternalTopicsThreeTimesAndNeedsTwoInSync() {
        Map<String, String> c = KraftBroker.clusterConfig(2, "1@127.0.0.1:9093,2@127.0.0.1:9103,3@127.0.0.1:9113", 3);
        assertEquals("2", c.get("node.id"));
        assertEquals("1@127.0.0.1:9093,2@127.0.0.1:9103,3@127.0.0.1:9113", c.get("controller.quorum.voters"));
        for (String k : new String[] {"offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                "share.coordinator.state.topic.replication.factor", "default.replication.factor"}) {
            assertEquals("3", c.get(k), k);
        }
        assertEquals("2", c.get("min.insync.replicas"));
        assertEquals("2", c.get("transaction.state.log.min.isr"));
        assertEquals("1", KraftBroker.clusterConfig(1, "1@127.0.0.1:9093", 1).get("min.insync.replicas"));
        assertEquals(1, org.imagingpipeline.events.TopicSpec.minInSyncReplicas(2), "two replicas: one may be down");
    }

    @Test
    void badQuorumsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> KraftBroker.clusterConfig(4, "1@h:1,2@h:2,3@h:3", 3), "not a voter");
        assertThrows(IllegalArgumentException.class, () -> KraftBroker.clusterConfig(1, "1@h:1", 3), "more replicas than nodes");
        assertThrows(IllegalArgumentException.class, () -> KraftBroker.clusterConfig(1, "1@h", 1), "no port");
        assertThrows(IllegalArgumentException.class, () -> KraftBroker.clusterConfig(1, "1@h:1,,2@h:2", 1), "empty voter");
    }

    @Test
    void aDataFolderOfAnotherClusterIsNotFormattedAgain() throws Exception {
        Files.writeString(dir.resolve("cluster.id"), "KlAkXEtB7pO7-IpZbEQZxA\n");
        Path props = dir.resolve("server.properties");
        Files.writeString(props, "");
        var e = assertThrows(java.io.IOException.class, () -> KraftBroker.format(dir, props, "AAAAAAAAAAAAAAAAAAAAAA"));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("belongs to cluster KlAkXEtB7pO7-IpZbEQZxA"), e.getMessage());
    }
}

package org.imagingpipeline.testsupport.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;

/**
 * Brings a secured broker's users and ACLs in line with {@link KafkaAccess} and {@link KafkaSecrets}: every principal's
 * SCRAM-SHA-512 credential is (re)set from its password file, every ACL of the table is created, and an ACL of one of
 * those principals that the table no longer has is deleted. Needs a super user's connection (the internal listener,
 * {@link KafkaSecrets#adminProperties()}). Safe to run at every start.
 */
public final class AccessProvisioner {
    /** SCRAM iterations (RFC 7677 asks for at least 4096). */
    static final int ITERATIONS = 8192;

    private final Admin admin;
    private final KafkaSecrets secrets;

    public AccessProvisioner(Admin admin, KafkaSecrets secrets) {
        this.admin = admin;
        this.secrets = secrets;
    }

    /** What one run changed. */
    public record Result(int users, int aclsCreated, int aclsDeleted) {
    }

    public Result ensure() throws Exception {
        List<UserScramCredentialAlteration> users = new ArrayList<>();
        for (String p : KafkaAccess.PRINCIPALS) {
            users.add(new UserScramCredentialUpsertion(p, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS),
                    secrets.password(p)));
        }
        admin.alterUserScramCredentials(users).all().get(30, TimeUnit.SECONDS);

        Set<AclBinding> wanted = KafkaAccess.bindings();
        Collection<AclBinding> present = admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS);
        Set<String> ours = new HashSet<>();
        for (String p : KafkaAccess.PRINCIPALS) ours.add("User:" + p);
        List<AclBindingFilter> stale = new ArrayList<>();
        for (AclBinding b : present) {
            if (ours.contains(b.entry().principal()) && !wanted.contains(b)) stale.add(b.toFilter());
        }
        if (!stale.isEmpty()) admin.deleteAcls(stale).all().get(30, TimeUnit.SECONDS);
        List<AclBinding> missing = wanted.stream().filter(b -> !present.contains(b)).toList();
        if (!missing.isEmpty()) admin.createAcls(missing).all().get(30, TimeUnit.SECONDS);
        return new Result(users.size(), missing.size(), stale.size());
    }
}

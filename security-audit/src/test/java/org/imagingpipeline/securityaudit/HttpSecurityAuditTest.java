package org.imagingpipeline.securityaudit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** What a refused request's audit target keeps: method and path, DICOM UIDs replaced, at most 200 characters. */
class HttpSecurityAuditTest {
    @Test
    void uidsInPathsAreNotRecorded() {
        assertEquals("POST /dicomweb/studies/{uid}", HttpSecurityAudit.target("POST", "/dicomweb/studies/1.2.826.0.1.3680043.2.1125.7"));
        assertEquals("GET /domains/dom-1a2b3c4d5e6f", HttpSecurityAudit.target("GET", "/domains/dom-1a2b3c4d5e6f"));
        assertEquals("GET /jobs/12", HttpSecurityAudit.target("GET", "/jobs/12"));
        assertEquals("GET /models/1.2", HttpSecurityAudit.target("GET", "/models/1.2"));
        assertEquals(200, HttpSecurityAudit.target("GET", "/" + "x".repeat(500)).length());
    }
}

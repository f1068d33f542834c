package org.imagingpipeline.retrain.service.jobs;

/** A job cannot go on; the message is what GET /jobs/{id} shows as its error. */
final class JobFailure extends Exception {
    JobFailure(String message) {
        super(message);
    }
}

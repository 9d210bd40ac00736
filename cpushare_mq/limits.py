"""Every hard cap of the project in one place: sizes of the two wire formats, and what a
buyer may ask of a job.

:mod:`cpushare_mq.protocol` (hub <-> worker), :mod:`cpushare_mq.buyer_protocol`
(application <-> hub) and :mod:`cpushare_mq.jobspec` (the job's policy) all read this
class; none of them defines a cap of its own. Bytes unless a name says otherwise.
"""

from __future__ import annotations

__all__ = ["Limits"]


class Limits:
    """The project's caps (class attributes; never instantiated)."""

    # -- what one job may ask for (checked by cpushare_mq.jobspec, at every entry point)
    MAX_FRAGMENTS = 10_000_000           # fragments in one job
    MAX_REDUNDANCY = 16                  # copies of each fragment run on distinct workers
    MAX_ATTEMPTS = 1000                  # leases of one fragment before it is given up
    MAX_FRAGMENT_S = 7 * 86400           # cpu_s and wall_s of one fragment
    MAX_PRIORITY = 1000                  # priority is in [-MAX_PRIORITY, MAX_PRIORITY]
    MAX_JOB_NAME_CHARS = 256
    MAX_PROGRAM_BYTES = 64 << 20         # a program or shared input
    MAX_SHARED_BYTES = MAX_PROGRAM_BYTES
    MAX_FRAGMENT_INPUT_BYTES = 16 << 20  # one fragment's input
    MAX_JOB_INPUT_BYTES = 2 << 30        # sum of a job's fragment inputs (buyer socket)
    MAX_RESULT_BYTES = 1 << 30           # one fragment's whole uncompressed result

    # -- hub <-> worker (cpushare_mq.protocol)
    MAX_BODY_BYTES = 1 << 20             # JSON body of any message
    MAX_BLOBS = 4096                     # binary frames in one message
    MAX_CHUNK_BYTES = 4 << 20            # one compressed result chunk
    RAW_CHUNK_BYTES = 256 << 10          # workers cut results into chunks of at most this raw size
    CHUNK_RAW_CAP = 4 << 20              # one stored result chunk decompresses to at most this
    MAX_LEASES_PER_MESSAGE = 1024
    MAX_RESULTS_PER_BATCH = 1024         # RESULT_BATCH items
    MAX_STR = 4096                       # any text field of a worker message
    MAX_MESSAGE_BYTES = MAX_PROGRAM_BYTES + MAX_BODY_BYTES + 4096  # for ZMQ_MAXMSGSIZE

    # -- application <-> hub (cpushare_mq.buyer_protocol)
    MAX_FRAME_BYTES = MAX_PROGRAM_BYTES + 4096   # any one frame's payload (a program fits in one)
    BATCH_TARGET_BYTES = 1 << 20         # clients cut fragment batches at about this size
    BATCH_MAX_FRAGMENTS = 65536
    CHUNK_BYTES = 1 << 20                # result chunks the hub sends are at most this
    BUYER_MAX_STR = 65536                # any text field of a buyer frame
    MAX_RESULTS_PER_NEXT = 4096
    MAX_FAILURES_LISTED = 1000           # PROGRESS lists at most this many failure reasons
    MAX_SELLERS_LISTED = 200             # STATUS lists at most this many worker keys' reputations
    MAX_LIST = 1_000_000

"""Files that are ready at the same moment go to rTorrent together, each with its own outcome.

A ``LoadBatch`` turns candidates into results in a few requests, whatever their number:

1. which items are loaded already: one ``d.hash`` multicall for the batch (one ``d.multicall2`` of
   every item's hash above ``ASK_EACH_MAX`` files);
2. the prepared loads in ``system.multicall`` requests (JSON-RPC batches on 0.16) of ``SEND_CHUNK``,
   each sent as soon as it is prepared (the client splits one only to stay below the request size
   cap); a lone file goes at once, as one multicall of its ``d.hash`` question and its ``load.raw*``
   (``MetafileLoader.send_one``), so one request does both;
3. once all are sent, one ``d.hash`` probe for all of them (not in a load's request: 0.9.8 inserts
   the items from its main loop after answering it), then only the missing ones again, 1 ms, 2 ms, …
   apart, until ``verify_timeout``.

A fault in one entry of the load multicall is that file's result (rTorrent away for it: it stays
pending), not the batch's. Two files of one item in one batch: the second waits for the next round
and finds the item loaded. A metafile too big to send is loaded by path, on its own (the rest of the
batch then one by one too, except what rTorrent shows already: the split multicall may have sent it).
rTorrent away (the request itself failed) is the result of every file not concluded yet.
"""

from __future__ import annotations

from pathlib import Path

from pyrotorque.errors import RequestTooLarge, RtorrentError
from pyrotorque.jobs.treewatch.loader import ASK_EACH_MAX, LoadResult, MetafileLoader, PreparedLoad
from pyrotorque.jobs.treewatch.scanner import Candidate, Outcome
from pyrotorque.metafile import Metafile

#: Loads go out as they are prepared, this many per request, so that rTorrent creates the first items
#: while the next files are read (the floor in ``make bench`` loads in batches of 50 too).
SEND_CHUNK = 50


class LoadBatch:
    """Loads ``candidates`` together on the first ``results()``; each gets its result."""

    def __init__(self, loader: MetafileLoader, candidates: list[Candidate]) -> None:
        self.loader = loader
        self.candidates = candidates
        #: More than one file: the batch asks once which items are loaded (a lone file as it loads).
        self.shared = len(candidates) > 1
        self._results: list[LoadResult] | None = None
        #: The metafiles read for the batch's question, kept for its loads (up to ``ASK_EACH_MAX`` files).
        self._read: dict[Path, Metafile] = {}

    def results(self) -> list[LoadResult]:
        """The result of each candidate, in order; rTorrent away is a result (``away``), never raised."""
        if self._results is None:
            self._results = self._load_all()
        return self._results

    # -- the rounds -----------------------------------------------------------------------------------

    def _load_all(self) -> list[LoadResult]:
        results: dict[int, LoadResult] = {}
        todo = list(range(len(self.candidates)))
        try:
            loaded = self._loaded_set() if self.shared else None
            while todo:
                todo = self._round(todo, loaded, results)
        except RtorrentError as exc:
            for index in range(len(self.candidates)):
                results.setdefault(index, LoadResult(None, away=exc))
        return [results[index] for index in range(len(self.candidates))]

    def _loaded_set(self) -> set[str]:
        if len(self.candidates) <= ASK_EACH_MAX:
            self._read = self.loader.read_each(self.candidates)
            return self.loader.shown_among([metafile.info_hash for metafile in self._read.values()])
        return self.loader.loaded_hashes()

    def _round(self, todo: list[int], loaded: set[str] | None, results: dict[int, LoadResult]) -> list[int]:
        """Prepare, send and verify the loads of ``todo``; returns the files left for the next round
        (a second file of an item loaded in this one)."""
        chunk: dict[int, PreparedLoad] = {}
        sent: dict[int, PreparedLoad] = {}
        hashes: set[str] = set()
        later = []
        for index in todo:
            candidate = self.candidates[index]
            step = self.loader.prepare(candidate, loaded, self._read.pop(candidate.path, None))
            if isinstance(step, LoadResult):
                results[index] = step
            elif step.metafile.info_hash in hashes:
                later.append(index)
            else:
                chunk[index] = step
                hashes.add(step.metafile.info_hash)
                if len(chunk) == SEND_CHUNK:
                    # rTorrent creates these items while the next ones are read and prepared.
                    sent.update(self._send(chunk, results))
                    chunk = {}
        if chunk:
            sent.update(self._send(chunk, results))
        if not hashes and later:  # cannot happen (a later file has a prepared twin), but never loop forever
            raise AssertionError("a load batch round prepared nothing")
        if sent:
            outcomes = self._verify(sent)
            results.update(outcomes)
            if loaded is not None:
                loaded.update(r.info_hash for r in outcomes.values() if r.outcome is Outcome.LOADED)
        return later

    def _verify(self, sent: dict[int, PreparedLoad]) -> dict[int, LoadResult]:
        shown = self.loader.wait_until_shown([load.metafile.info_hash for load in sent.values()])
        return {
            index: self.loader.conclude(load, load.metafile.info_hash in shown)
            for index, load in sent.items()
        }

    def _send(
        self, prepared: dict[int, PreparedLoad], results: dict[int, LoadResult]
    ) -> dict[int, PreparedLoad]:
        """Send the loads; the ones sent (to verify) are returned, the others' results set."""
        client = self.loader.client
        if len(prepared) > 1:
            loads = list(prepared.values())
            for load in loads:
                method, params = load.call
                self.loader.log.debug(
                    "Loading %r with %s and commands %r", str(load.path), method, params[2:]
                )
            try:
                answers = client.multicall([load.call for load in loads])
            except RequestTooLarge:
                # One is too big to send: each on its own below (that one by path), except the ones
                # rTorrent shows already (sent in an earlier part of the split multicall).
                shown = self.loader.shown_among([load.metafile.info_hash for load in loads])
                return self._send_each(prepared, results, shown)
            else:
                sent = {}
                for (index, load), answer in zip(prepared.items(), answers, strict=True):
                    if isinstance(answer, RtorrentError):
                        results[index] = LoadResult(None, away=answer)
                    else:
                        sent[index] = load
                return sent
        return self._send_each(prepared, results, set())

    def _send_each(
        self, prepared: dict[int, PreparedLoad], results: dict[int, LoadResult], shown: set[str]
    ) -> dict[int, PreparedLoad]:
        sent = {}
        for index, load in prepared.items():
            if load.metafile.info_hash in shown:
                sent[index] = load
                continue
            try:
                already = self.loader.send_one(load)
            except RequestTooLarge as too_big:
                results[index] = self.loader.send_by_path(load, too_big)
            else:
                if already is None:
                    sent[index] = load
                else:
                    results[index] = already
        return sent

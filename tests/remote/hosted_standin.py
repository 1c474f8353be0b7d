#!/usr/bin/env python3
"""A stand-in for the hosted Music Split service's server (FastAPI, the public repository
Zbehel/Music_Split, src/api.py), answering field by field as that code does, for the client's
tests: job ids in hex, session ids named like its temporary folders, epoch times, `result` values
that are file paths on the server (not addresses), stems as WAV from
/download/status/{job_id}/{stem_name} (its download_template) and /download/{session_id}/{stem},
{"detail": ...} errors, FastAPI's 404 for unknown paths. Each stem is the uploaded WAV itself, so
a test can check what arrives. Prints "listening on http://127.0.0.1:PORT"; logs requests to
stdout as "METHOD PATH"."""
import email.parser
import json
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STEMS = ["drums", "bass", "other", "vocals", "guitar", "piano"]  # htdemucs_6s
JOBS = {}  # job id -> record (as the service's JOBS)
UPLOADS = {}  # session -> bytes


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, code, obj=None, body=None, ctype="application/json"):
        data = body if body is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-ID", uuid.uuid4().hex)
        self.end_headers()
        self.wfile.write(data)

    def seen(self):
        print(self.command, self.path, flush=True)

    def do_POST(self):
        self.seen()
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if self.path != "/separate":
            return self.answer(404, {"detail": "Not Found"})
        msg = email.parser.BytesParser().parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + raw)
        fields = {p.get_param("name", header="content-disposition"): p.get_payload(decode=True)
                  for p in msg.get_payload()}
        model = (fields.get("model_name") or b"htdemucs_6s").decode()
        if model != "htdemucs_6s":
            return self.answer(400, {"detail": f"Modèle '{model}' non disponible. "
                                               f"Modèles disponibles: ['htdemucs_6s']"})
        session = "tmp" + uuid.uuid4().hex[:8]
        job = uuid.uuid4().hex
        UPLOADS[session] = fields["file"]
        out = f"/tmp/music-separator/{session}/output"
        JOBS[job] = {"status": "pending", "model": model, "device": "cuda", "session_id": session,
                     "submitted_at": time.time(), "started_at": None, "finished_at": None,
                     "result": None, "error": None, "file_size": len(fields["file"]),
                     "output_dir": out, "source": "upload", "polls": 0}
        self.answer(200, {"status": "accepted", "job_id": job, "session_id": session,
                          "status_url": f"/status/{job}",
                          "download_template": f"/download/status/{job}/{{stem_name}}"})

    def do_GET(self):
        self.seen()
        parts = self.path.strip("/").split("/")
        if parts[0] == "status" and len(parts) == 2:
            job = JOBS.get(parts[1])
            if not job:
                return self.answer(404, {"detail": "Job not found"})
            job["polls"] += 1
            if job["polls"] == 2:
                job["status"], job["started_at"] = "running", time.time()
            if job["polls"] >= 3:
                job["status"], job["finished_at"] = "done", time.time()
                job["result"] = {s: f"{job['output_dir']}/{s}.wav" for s in STEMS}
            return self.answer(200, {k: v for k, v in job.items() if k != "polls"})
        if parts[0] == "download" and len(parts) == 4 and parts[1] == "status":
            job = JOBS.get(parts[2])
            if not job:
                return self.answer(404, {"detail": "Job not found"})
            if job["status"] != "done":
                return self.answer(409, {"detail": f"Job not finished (status={job['status']})"})
            if parts[3] not in STEMS:
                return self.answer(404, {"detail": "Stem not found for job"})
            return self.answer(200, body=UPLOADS[job["session_id"]], ctype="audio/wav")
        if parts[0] == "download" and len(parts) == 3 and parts[1] in UPLOADS:
            if parts[2] not in STEMS:
                return self.answer(404, {"detail": f"Fichier {parts[2]}.wav non trouvé pour "
                                                   f"session {parts[1]}"})
            return self.answer(200, body=UPLOADS[parts[1]], ctype="audio/wav")
        self.answer(404, {"detail": "Not Found"})

    def do_DELETE(self):
        self.seen()
        parts = self.path.strip("/").split("/")
        if parts[0] == "cleanup" and len(parts) == 2 and parts[1] in UPLOADS:
            del UPLOADS[parts[1]]
            return self.answer(200, {"status": "success", "message": "Session cleaned",
                                     "session_id": parts[1]})
        self.answer(404, {"detail": f"Session {parts[-1]} non trouvée"})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
server.serve_forever()

"""A virtual X display for headed sessions on a machine with no screen."""

import asyncio
import os

from .errors import UnsupportedOption


class VirtualDisplay:
    def __init__(self, xvfb_path: str | None):
        self._xvfb_path = xvfb_path
        self._process: asyncio.subprocess.Process | None = None
        self.display: str | None = None

    async def start(self) -> str:
        if self.display:
            return self.display
        if not self._xvfb_path:
            raise UnsupportedOption(
                "headless",
                "headless=false needs a virtual display, and Xvfb is not installed on the "
                "browser worker (apt-get install xvfb), or start the session with headless=true",
            )
        read_fd, write_fd = os.pipe()
        # -displayfd lets Xvfb pick a free display number and tell us which one it took.
        self._process = await asyncio.create_subprocess_exec(
            self._xvfb_path,
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            "1920x1080x24",
            "-nolisten",
            "tcp",
            pass_fds=(write_fd,),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        os.close(write_fd)
        loop = asyncio.get_running_loop()
        try:
            number = await asyncio.wait_for(loop.run_in_executor(None, _read_line, read_fd), 10)
        finally:
            os.close(read_fd)
        if not number:
            raise UnsupportedOption("headless", "Xvfb failed to start a virtual display")
        self.display = f":{number}"
        return self.display

    async def stop(self) -> None:
        if self._process and self._process.returncode is None:
            self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), 5)
            except TimeoutError:
                self._process.kill()
        self._process = None
        self.display = None


def _read_line(fd: int) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 16)
        if not chunk:
            break
        data += chunk
    return data.decode().strip()

package telemeter

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
)

// maxProcFile bounds what is read of a /proc file.
const maxProcFile = 64 << 10

// cpuTimes are the jiffies of /proc/stat's "cpu" line: busy and total.
type cpuTimes struct{ busy, total uint64 }

// parseStat reads the aggregate "cpu" line of /proc/stat.
func parseStat(data []byte) (cpuTimes, error) {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return cpuTimes{}, errors.New("/proc/stat: no cpu line")
	}
	var t cpuTimes
	for i, s := range f[1:min(len(f), 9)] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTimes{}, errors.New("/proc/stat: a cpu time is not a number")
		}
		t.total += v
		if i != 3 && i != 4 { // idle and iowait
			t.busy += v
		}
	}
	return t, nil
}

// parseMeminfo returns MemTotal and MemAvailable of /proc/meminfo, in
// bytes.
func parseMeminfo(data []byte) (total, avail uint64, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, perr := strconv.ParseUint(f[0], 10, 64)
		if perr != nil || v > 1<<50 {
			continue
		}
		switch name {
		case "MemTotal":
			total = v << 10
		case "MemAvailable":
			avail = v << 10
		}
	}
	if total == 0 {
		return 0, 0, errors.New("/proc/meminfo: no MemTotal")
	}
	return total, min(avail, total), nil
}

// parseLoadavg returns the one-minute load of /proc/loadavg.
func parseLoadavg(data []byte) (float64, error) {
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, errors.New("/proc/loadavg: empty")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || v < 0 || v > 1e6 {
		return 0, errors.New("/proc/loadavg: not a load")
	}
	return v, nil
}

func readProc(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxProcFile))
}

// Sampler reads the host's status from /proc; CPU use is measured
// between two samples.
type Sampler struct {
	prev cpuTimes
	host string
}

// NewSampler returns a sampler whose first CPU figure covers the time
// since the host booted.
func NewSampler() *Sampler {
	h, _ := os.Hostname()
	return &Sampler{host: h}
}

// Sample reads the status now.
func (s *Sampler) Sample() (Status, error) {
	st := Status{Host: s.host}
	data, err := readProc("/proc/stat")
	if err != nil {
		return st, err
	}
	t, err := parseStat(data)
	if err != nil {
		return st, err
	}
	if d := t.total - s.prev.total; d > 0 && t.total >= s.prev.total {
		st.CPU = float64(t.busy-s.prev.busy) / float64(d)
	}
	s.prev = t
	if data, err = readProc("/proc/meminfo"); err != nil {
		return st, err
	}
	total, avail, err := parseMeminfo(data)
	if err != nil {
		return st, err
	}
	st.MemTotal, st.MemUsed = total, total-avail
	if data, err = readProc("/proc/loadavg"); err != nil {
		return st, err
	}
	if st.Load1, err = parseLoadavg(data); err != nil {
		return st, err
	}
	return st, nil
}

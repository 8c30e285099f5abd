package telemeter

var (
	ParseStat    = parseStat
	ParseMeminfo = parseMeminfo
	ParseLoadavg = parseLoadavg
)

// CPUTimes exposes a parsed /proc/stat line.
func CPUTimes(data []byte) (busy, total uint64, err error) {
	t, err := parseStat(data)
	return t.busy, t.total, err
}

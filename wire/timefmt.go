package wire

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// appendDatetime appends the body of a datetime: UTC, exactly six
// fraction digits (microseconds), `Z`. Sub-microsecond precision is
// truncated: the Python reference parses at most six digits.
func appendDatetime(b []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	if y < 0 || y > 9999 {
		return b, errors.New("year outside 0000-9999")
	}
	us := t.Nanosecond() / 1000
	var f [27]byte // YYYY-MM-DDTHH:MM:SS.ffffffZ
	put := func(at, v, width int) {
		for i := at + width - 1; i >= at; i-- {
			f[i] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, y, 4)
	f[4] = '-'
	put(5, int(mo), 2)
	f[7] = '-'
	put(8, d, 2)
	f[10] = 'T'
	put(11, h, 2)
	f[13] = ':'
	put(14, mi, 2)
	f[16] = ':'
	put(17, sec, 2)
	f[19] = '.'
	put(20, us, 6)
	f[26] = 'Z'
	return append(b, f[:]...), nil
}

// parseDatetime parses YYYY-MM-DDTHH:MM:SS[.f{0,9}](Z|z|±hh:mm).
func parseDatetime(s []byte) (time.Time, bool) {
	num := func(p []byte) (int, bool) {
		v := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := 100000000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			if i > 9 {
				return time.Time{}, false
			}
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(rest[1:3])
		om, ok2 := num(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // e.g. February 30th
		return time.Time{}, false
	}
	t = t.Add(-time.Duration(offset) * time.Second)
	if y := t.Year(); y < 0 || y > 9999 { // what the encoder cannot write back
		return time.Time{}, false
	}
	return t, true
}

// appendDuration appends a timedelta body with every designator:
// P0Y0M{d}DT{h}H{m}M{s}S, negative durations with a leading minus.
func appendDuration(b []byte, years, months int64, dur time.Duration) []byte {
	neg := years < 0 || months < 0 || dur < 0
	if neg {
		b = append(b, '-')
		years, months = -years, -months
	}
	u := uint64(dur)
	if dur < 0 {
		u = uint64(-dur) // correct for math.MinInt64 too, as uint64
	}
	b = append(b, 'P')
	b = strconv.AppendInt(b, years, 10)
	b = append(b, 'Y')
	b = strconv.AppendInt(b, months, 10)
	b = append(b, 'M')
	const day = uint64(24 * time.Hour)
	b = strconv.AppendUint(b, u/day, 10)
	u %= day
	b = append(b, 'D', 'T')
	b = strconv.AppendUint(b, u/uint64(time.Hour), 10)
	u %= uint64(time.Hour)
	b = append(b, 'H')
	b = strconv.AppendUint(b, u/uint64(time.Minute), 10)
	u %= uint64(time.Minute)
	b = append(b, 'M')
	b = strconv.AppendUint(b, u/uint64(time.Second), 10)
	if frac := u % uint64(time.Second); frac != 0 {
		var tmp [9]byte
		for i := 8; i >= 0; i-- {
			tmp[i] = byte('0' + frac%10)
			frac /= 10
		}
		n := 9
		for n > 0 && tmp[n-1] == '0' {
			n--
		}
		b = append(b, '.')
		b = append(b, tmp[:n]...)
	}
	return append(b, 'S')
}

func appendPeriod(b []byte, p Period) ([]byte, error) {
	pos := p.Years > 0 || p.Months > 0 || p.Duration > 0
	neg := p.Years < 0 || p.Months < 0 || p.Duration < 0
	if pos && neg {
		return b, errors.New("period mixes positive and negative parts")
	}
	if p.Years == math.MinInt64 || p.Months == math.MinInt64 {
		return b, errors.New("period out of range")
	}
	return appendDuration(b, p.Years, p.Months, p.Duration), nil
}

// parsePeriod parses an ISO 8601 duration: -?P(nY)?(nM)?(nW)?(nD)?(T(nH)?(nM)?(n[.f]S)?)?
// with at least one part. Only seconds may have a fraction.
func parsePeriod(s []byte) (Period, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) < 2 || s[0] != 'P' {
		return Period{}, false
	}
	s = s[1:]
	var years, months int64
	// total is the magnitude; a negative period may reach -2^63, one
	// more than the largest positive duration.
	var total uint64
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	inTime := false
	parts := 0
	order := 0 // position of the last designator, to enforce order
	add := func(v int64, unit time.Duration) bool {
		if uint64(v) > limit/uint64(unit) {
			return false
		}
		x := uint64(v) * uint64(unit)
		if total > limit-x {
			return false
		}
		total += x
		return true
	}
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return Period{}, false
			}
			inTime = true
			s = s[1:]
			if len(s) == 0 {
				return Period{}, false
			}
			continue
		}
		i := 0
		var v int64
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if v > (math.MaxInt64-int64(s[i]-'0'))/10 {
				return Period{}, false
			}
			v = v*10 + int64(s[i]-'0')
			i++
		}
		if i == 0 {
			return Period{}, false
		}
		var frac time.Duration
		if i < len(s) && s[i] == '.' {
			i++
			scale := time.Duration(100000000)
			j := i
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				frac += time.Duration(s[i]-'0') * scale
				scale /= 10
				i++
			}
			if i == j || i >= len(s) || s[i] != 'S' || !inTime {
				return Period{}, false
			}
		}
		if i >= len(s) {
			return Period{}, false
		}
		unit := s[i]
		s = s[i+1:]
		parts++
		var rank int
		ok := true
		switch {
		case !inTime && unit == 'Y':
			rank, years = 1, v
		case !inTime && unit == 'M':
			rank, months = 2, v
		case !inTime && unit == 'W':
			rank = 3
			ok = add(v, 7*24*time.Hour)
		case !inTime && unit == 'D':
			rank = 4
			ok = add(v, 24*time.Hour)
		case inTime && unit == 'H':
			rank = 5
			ok = add(v, time.Hour)
		case inTime && unit == 'M':
			rank = 6
			ok = add(v, time.Minute)
		case inTime && unit == 'S':
			rank = 7
			ok = add(v, time.Second) && add(int64(frac), 1)
		default:
			return Period{}, false
		}
		if !ok || rank <= order {
			return Period{}, false
		}
		order = rank
	}
	if parts == 0 {
		return Period{}, false
	}
	dur := time.Duration(total) // -2^63 when total is 2^63
	if neg {
		years, months, dur = -years, -months, -dur
	}
	return Period{Years: years, Months: months, Duration: dur}, true
}

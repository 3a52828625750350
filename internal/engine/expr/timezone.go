package expr

import (
	"strings"
	"sync"
	"time"

	// The tz database is compiled in so that results do not depend on the machine when it
	// has no zoneinfo files.
	_ "time/tzdata"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// tzKind distinguishes MongoDB's three kinds of time zone: UTC itself, a fixed UTC offset
// ("+04:45") and an Olson identifier ("Europe/Paris"). The distinction is observable:
// $dateToString's default format and $dateFromString's rules for offsets in the string
// treat only the first kind as UTC, while "GMT" or "Etc/UTC" are identifiers.
type tzKind uint8

const (
	tzUTC tzKind = iota
	tzOffset
	tzID
)

// tzone is a resolved time zone.
type tzone struct {
	kind   tzKind
	offset int64 // seconds east of UTC, for tzOffset
	loc    *time.Location
}

var utcZone = &tzone{kind: tzUTC, loc: time.UTC}

// isUTC reports whether z is MongoDB's UTC zone (no identifier, zero offset).
func (z *tzone) isUTC() bool { return z.kind == tzUTC }

var tzCache sync.Map // string -> *tzone

// parseTimezone resolves a timezone argument: an Olson identifier or a UTC offset in one
// of the forms ±HH, ±HHMM and ±HH:MM.
func parseTimezone(name string) (*tzone, error) {
	if z, ok := tzCache.Load(name); ok {
		return z.(*tzone), nil
	}
	z, ok := resolveTimezone(name)
	if !ok {
		return nil, mongoerr.Newf(40485, "unrecognized time zone identifier: \"%s\"", name)
	}
	tzCache.Store(name, z)
	return z, nil
}

func resolveTimezone(name string) (*tzone, bool) {
	if name == "UTC" {
		return utcZone, true
	}
	if off, ok := parseUTCOffset(name); ok {
		if off == 0 {
			return utcZone, true
		}
		return &tzone{kind: tzOffset, offset: off, loc: time.FixedZone("", int(off))}, true
	}
	if !plausibleZoneName(name) {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	return &tzone{kind: tzID, loc: loc}, true
}

// plausibleZoneName rejects names Go would resolve but MongoDB's time zone database does
// not hold: the local zone, paths, and the helper files of a zoneinfo directory.
func plausibleZoneName(name string) bool {
	if name == "" || name == "Local" || strings.ContainsAny(name, "\\\x00 ") ||
		strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return false
	}
	switch name {
	case "localtime", "posixrules", "Factory", "leapseconds", "tzdata.zi", "zone.tab",
		"zone1970.tab", "iso3166.tab", "leap-seconds.list", "SECURITY", "zonenow.tab":
		return false
	}
	return !strings.HasPrefix(name, "posix/") && !strings.HasPrefix(name, "right/")
}

// parseUTCOffset parses ±HH, ±HHMM or ±HH:MM into seconds east of UTC.
func parseUTCOffset(s string) (int64, bool) {
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	sign := int64(1)
	if s[0] == '-' {
		sign = -1
	}
	digits := func(t string) (int64, bool) {
		var n int64
		for i := 0; i < len(t); i++ {
			if t[i] < '0' || t[i] > '9' {
				return 0, false
			}
			n = n*10 + int64(t[i]-'0')
		}
		return n, true
	}
	var h, m int64
	var ok1, ok2 bool
	switch len(s) {
	case 3:
		h, ok1 = digits(s[1:3])
		ok2 = true
	case 5:
		h, ok1 = digits(s[1:3])
		m, ok2 = digits(s[3:5])
	case 6:
		if s[3] != ':' {
			return 0, false
		}
		h, ok1 = digits(s[1:3])
		m, ok2 = digits(s[4:6])
	default:
		return 0, false
	}
	if !ok1 || !ok2 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}

// timezoneArg is a compiled timezone argument: absent (UTC), a constant resolved at
// compile time, or an expression resolved per evaluation.
type timezoneArg struct {
	n        node
	fixed    *tzone
	constNil bool // the constant is null: every evaluation yields null
}

// compileTimezone resolves a constant timezone once, as MongoDB's optimizer does, so an
// unknown constant zone is reported when the pipeline is parsed. When every operand of
// the expression is constant (allConst), the optimizer evaluates the whole expression
// instead, checking arguments in evaluation order (a null date wins over a bad zone), so
// the zone is then left to evaluation.
func compileTimezone(n node, allConst bool) (timezoneArg, error) {
	if n == nil {
		return timezoneArg{fixed: utcZone}, nil
	}
	if l, ok := n.(literal); ok && !allConst {
		if value.IsNullish(l.v) {
			return timezoneArg{constNil: true}, nil
		}
		z, err := timezoneOf(l.v)
		if err != nil {
			return timezoneArg{}, err
		}
		return timezoneArg{fixed: z}, nil
	}
	return timezoneArg{n: n}, nil
}

// resolve returns the zone for this evaluation, or nil when the argument is nullish.
func (t *timezoneArg) resolve(c *ctx) (*tzone, error) {
	if t.fixed != nil {
		return t.fixed, nil
	}
	if t.constNil {
		return nil, nil
	}
	v, err := t.n.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(v) {
		return nil, nil
	}
	return timezoneOf(v)
}

func timezoneOf(v any) (*tzone, error) {
	s, ok := v.(string)
	if !ok {
		return nil, mongoerr.Newf(40517, "timezone must evaluate to a string, found %s", typeName(v))
	}
	return parseTimezone(s)
}

// utcOffsetAt returns the offset from UTC, in seconds, in effect at the instant ms.
func (z *tzone) utcOffsetAt(ms int64) int64 {
	switch z.kind {
	case tzUTC:
		return 0
	case tzOffset:
		return z.offset
	}
	_, off := time.UnixMilli(ms).In(z.loc).Zone()
	return int64(off)
}

// localToUTC converts a wall-clock time, given as seconds since the epoch as if the wall
// clock were UTC, to the instant it denotes in z. Wall times that a daylight-saving
// transition skips or repeats are resolved the way MongoDB's date library does: a skipped
// time takes the offset in effect before the transition, a repeated one the earlier
// instant when clocks go back west of Greenwich.
func (z *tzone) localToUTC(wall int64) int64 {
	switch z.kind {
	case tzUTC:
		return wall
	case tzOffset:
		return wall - z.offset
	}
	before := time.Unix(wall, 0).In(z.loc)
	_, ob := before.Zone()
	after := time.Unix(wall-int64(ob), 0).In(z.loc)
	_, oa := after.Zone()
	if ob == oa {
		return wall - int64(ob)
	}
	start, _ := after.ZoneBounds()
	transition := start.Unix()
	if start.IsZero() {
		transition = -1 << 62
	}
	x := wall - int64(oa)
	inTransition := x >= transition+int64(ob-oa) && x < transition
	if inTransition {
		return wall - int64(ob)
	}
	return wall - int64(oa)
}

// localTime is an instant broken down in a time zone.
type localTime struct {
	year                     int64
	month, day               int
	hour, minute, second, ms int
	offset                   int64 // seconds east of UTC
}

// breakDown returns the calendar fields of the instant ms (milliseconds since the epoch)
// in z.
func (z *tzone) breakDown(ms int64) localTime {
	sec := sdFloorDiv(ms, 1000)
	msPart := int(ms - sec*1000)
	off := int64(0)
	switch z.kind {
	case tzOffset:
		off = z.offset
	case tzID:
		_, o := time.Unix(sec, 0).In(z.loc).Zone()
		off = int64(o)
	}
	wall := sec + off
	days := sdFloorDiv(wall, 86400)
	rem := wall - days*86400
	y, m, d := civilFromDays(days)
	return localTime{year: y, month: m, day: d, hour: int(rem / 3600), minute: int(rem / 60 % 60),
		second: int(rem % 60), ms: msPart, offset: off}
}

// days returns the day number (days since 1970-01-01) of the local date.
func (l *localTime) days() int64 { return daysFromCivil(l.year, l.month, l.day) }

// weekday returns 0 for Sunday through 6 for Saturday.
func (l *localTime) weekday() int { return weekdayOfDays(l.days()) }

// isoWeekday returns 1 for Monday through 7 for Sunday.
func (l *localTime) isoWeekday() int {
	if w := l.weekday(); w != 0 {
		return w
	}
	return 7
}

// yearDay returns the day of the year, 1 to 366.
func (l *localTime) yearDay() int { return int(l.days()-daysFromCivil(l.year, 1, 1)) + 1 }

// week returns the week of the year with weeks starting on Sunday, 0 to 53; days before
// the first Sunday are in week 0 (strftime's %U).
func (l *localTime) week() int { return (l.yearDay() - (l.weekday() + 1) + 7) / 7 }

// isoWeek returns the ISO 8601 week-numbering year and week.
func (l *localTime) isoWeek() (int64, int) { return isoWeekOfDays(l.days()) }

func isoWeekOfDays(days int64) (int64, int) {
	wd := int64(weekdayOfDays(days))
	if wd == 0 {
		wd = 7
	}
	// The Thursday of the same ISO week decides the year.
	thursday := days - wd + 4
	y, _, _ := civilFromDays(thursday)
	week := (thursday-daysFromCivil(y, 1, 1))/7 + 1
	return y, int(week)
}

func weekdayOfDays(days int64) int {
	// 1970-01-01 was a Thursday.
	return int(sdFloorMod(days+4, 7))
}

// daysFromCivil returns the number of days from 1970-01-01 to y-m-d in the proleptic
// Gregorian calendar (m 1..12, d 1..31).
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := sdFloorDiv(y, 400)
	yoe := y - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (int64, int, int) {
	z += 719468
	era := sdFloorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := int(doy - (153*mp+2)/5 + 1)
	m := int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func civilIsLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func civilDaysInMonth(y int64, m int) int {
	switch m {
	case 2:
		if civilIsLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func sdFloorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func sdFloorMod(a, b int64) int64 { return a - sdFloorDiv(a, b)*b }

// sdDateMillis converts a date-like value to milliseconds since the epoch as MongoDB
// coerces to a date: dates as they are, timestamps and ObjectIds by their seconds.
func sdDateMillis(v any) (int64, bool) {
	switch x := v.(type) {
	case bson.DateTime:
		return int64(x), true
	case bson.Timestamp:
		return int64(x.T) * 1000, true
	case bson.ObjectID:
		return int64(int32(uint32(x[0])<<24|uint32(x[1])<<16|uint32(x[2])<<8|uint32(x[3]))) * 1000, true
	}
	return 0, false
}

// sdCoerceToDate is sdDateMillis with MongoDB's error for other types.
func sdCoerceToDate(v any) (int64, error) {
	if ms, ok := sdDateMillis(v); ok {
		return ms, nil
	}
	return 0, mongoerr.Newf(16006, "can't convert from BSON type %s to Date", typeName(v))
}

package expr

import (
	"math"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	for name, fn := range datePartFuncs {
		register(name, datePartParser(name, fn))
	}
	register("$dateToString", parseDateToString)
	register("$dateToParts", parseDateToParts)
	register("$dateFromParts", parseDateFromParts)
	register("$dateFromString", parseDateFromString)
	register("$dateAdd", func(args any, sc *scope) (node, error) { return parseDateArith("$dateAdd", false, args, sc) })
	register("$dateSubtract", func(args any, sc *scope) (node, error) { return parseDateArith("$dateSubtract", true, args, sc) })
	register("$dateDiff", parseDateDiff)
	register("$dateTrunc", parseDateTrunc)
}

// datePartFuncs extracts one calendar field from a broken-down date. All fields are
// int32 except $isoWeekYear, which MongoDB returns as a long.
var datePartFuncs = map[string]func(t *localTime) any{
	"$year":        func(t *localTime) any { return int32(t.year) },
	"$month":       func(t *localTime) any { return int32(t.month) },
	"$dayOfMonth":  func(t *localTime) any { return int32(t.day) },
	"$hour":        func(t *localTime) any { return int32(t.hour) },
	"$minute":      func(t *localTime) any { return int32(t.minute) },
	"$second":      func(t *localTime) any { return int32(t.second) },
	"$millisecond": func(t *localTime) any { return int32(t.ms) },
	"$dayOfYear":   func(t *localTime) any { return int32(t.yearDay()) },
	"$dayOfWeek":   func(t *localTime) any { return int32(t.weekday() + 1) },
	"$week":        func(t *localTime) any { return int32(t.week()) },
	"$isoWeek": func(t *localTime) any {
		_, w := t.isoWeek()
		return int32(w)
	},
	"$isoWeekYear": func(t *localTime) any {
		y, _ := t.isoWeek()
		return y
	},
	"$isoDayOfWeek": func(t *localTime) any { return int32(t.isoWeekday()) },
}

// datePartNode is {$year: <date>} or {$year: {date, timezone}} and its siblings.
type datePartNode struct {
	date node
	tz   timezoneArg
	fn   func(t *localTime) any
}

func datePartParser(op string, fn func(t *localTime) any) parseFunc {
	return func(args any, sc *scope) (node, error) {
		var dateSpec, tzSpec any
		hasTZ := false
		switch x := args.(type) {
		case bson.D:
			if len(x) > 0 && strings.HasPrefix(x[0].Key, "$") {
				dateSpec = x
				break
			}
			hasDate := false
			for _, e := range x {
				switch e.Key {
				case "date":
					dateSpec, hasDate = e.Value, true
				case "timezone":
					tzSpec, hasTZ = e.Value, true
				default:
					return nil, mongoerr.Newf(40535, "unrecognized option to %s: \"%s\"", op, e.Key)
				}
			}
			if !hasDate {
				return nil, mongoerr.Newf(40539, "missing 'date' argument to %s, provided: %s", op, value.Format(x))
			}
		case bson.A:
			if len(x) != 1 {
				return nil, mongoerr.Newf(40536, "%s accepts exactly one argument if given an array, but was given %d", op, len(x))
			}
			dateSpec = x[0]
		default:
			dateSpec = args
		}
		n := &datePartNode{fn: fn}
		var err error
		if n.date, err = parse(dateSpec, sc); err != nil {
			return nil, err
		}
		var tzNode node
		if hasTZ {
			if tzNode, err = parse(tzSpec, sc); err != nil {
				return nil, err
			}
		}
		if n.tz, err = compileTimezone(tzNode, sdAllConstant(n.date, tzNode)); err != nil {
			return nil, err
		}
		return sdFold(n, n.date, tzNode)
	}
}

func (n *datePartNode) eval(c *ctx) (any, error) {
	v, err := n.date.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(v) {
		return nil, nil
	}
	ms, err := sdCoerceToDate(v)
	if err != nil {
		return nil, err
	}
	z, err := n.tz.resolve(c)
	if err != nil || z == nil {
		return nil, err
	}
	t := z.breakDown(ms)
	return n.fn(&t), nil
}

// dateToPartsNode is {$dateToParts: {date, timezone, iso8601}}.
type dateToPartsNode struct {
	date, iso node
	tz        timezoneArg
}

func parseDateToParts(args any, sc *scope) (node, error) {
	d, ok := sdNamedArgs(args)
	if !ok {
		return nil, mongoerr.Newf(40524, "$dateToParts only supports an object as its argument")
	}
	n := &dateToPartsNode{}
	var tzNode node
	for _, e := range d {
		var dst *node
		switch e.Key {
		case "date":
			dst = &n.date
		case "timezone":
			dst = &tzNode
		case "iso8601":
			dst = &n.iso
		default:
			return nil, mongoerr.Newf(40520, "Unrecognized argument to $dateToParts: %s", e.Key)
		}
		p, err := parse(e.Value, sc)
		if err != nil {
			return nil, err
		}
		*dst = p
	}
	if n.date == nil {
		return nil, mongoerr.Newf(40522, "Missing 'date' parameter to $dateToParts")
	}
	var err error
	if n.tz, err = compileTimezone(tzNode, sdAllConstant(n.date, tzNode, n.iso)); err != nil {
		return nil, err
	}
	return sdFold(n, n.date, tzNode, n.iso)
}

func (n *dateToPartsNode) eval(c *ctx) (any, error) {
	date, err := n.date.eval(c)
	if err != nil {
		return nil, err
	}
	z, err := n.tz.resolve(c)
	if err != nil || z == nil {
		return nil, err
	}
	iso := false
	if n.iso != nil {
		v, err := n.iso.eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsNullish(v) {
			return nil, nil
		}
		b, ok := v.(bool)
		if !ok {
			return nil, mongoerr.Newf(40521, "iso8601 must evaluate to a bool, found %s", typeName(v))
		}
		iso = b
	}
	if value.IsNullish(date) {
		return nil, nil
	}
	ms, err := sdCoerceToDate(date)
	if err != nil {
		return nil, err
	}
	t := z.breakDown(ms)
	if iso {
		y, w := t.isoWeek()
		return bson.D{
			{Key: "isoWeekYear", Value: int32(y)},
			{Key: "isoWeek", Value: int32(w)},
			{Key: "isoDayOfWeek", Value: int32(t.isoWeekday())},
			{Key: "hour", Value: int32(t.hour)},
			{Key: "minute", Value: int32(t.minute)},
			{Key: "second", Value: int32(t.second)},
			{Key: "millisecond", Value: int32(t.ms)},
		}, nil
	}
	return bson.D{
		{Key: "year", Value: int32(t.year)},
		{Key: "month", Value: int32(t.month)},
		{Key: "day", Value: int32(t.day)},
		{Key: "hour", Value: int32(t.hour)},
		{Key: "minute", Value: int32(t.minute)},
		{Key: "second", Value: int32(t.second)},
		{Key: "millisecond", Value: int32(t.ms)},
	}, nil
}

// dateFromPartsNode is {$dateFromParts: {...}} in its calendar or ISO week form.
type dateFromPartsNode struct {
	// year/month/day hold isoWeekYear/isoWeek/isoDayOfWeek in the ISO form.
	year, month, day, hour, minute, second, millisecond node
	iso                                                 bool
	tz                                                  timezoneArg
}

func parseDateFromParts(args any, sc *scope) (node, error) {
	d, ok := sdNamedArgs(args)
	if !ok {
		return nil, mongoerr.Newf(40519, "$dateFromParts only supports an object as its argument")
	}
	specs := map[string]any{}
	for _, e := range d {
		switch e.Key {
		case "year", "month", "day", "hour", "minute", "second", "millisecond",
			"isoWeekYear", "isoWeek", "isoDayOfWeek", "timezone":
			specs[e.Key] = e.Value
		default:
			return nil, mongoerr.Newf(40518, "Unrecognized argument to $dateFromParts: %s", e.Key)
		}
	}
	has := func(k string) bool { _, ok := specs[k]; return ok }
	if !has("year") && !has("isoWeekYear") {
		return nil, mongoerr.Newf(40516, "$dateFromParts requires either 'year' or 'isoWeekYear' to be present")
	}
	if has("year") && (has("isoWeekYear") || has("isoWeek") || has("isoDayOfWeek")) {
		return nil, mongoerr.Newf(40489, "$dateFromParts does not allow mixing natural dates with ISO dates")
	}
	if has("isoWeekYear") && (has("year") || has("month") || has("day")) {
		return nil, mongoerr.Newf(40525, "$dateFromParts does not allow mixing ISO dates with natural dates")
	}
	n := &dateFromPartsNode{iso: has("isoWeekYear")}
	names := [...]string{"year", "month", "day"}
	if n.iso {
		names = [...]string{"isoWeekYear", "isoWeek", "isoDayOfWeek"}
	}
	fields := []struct {
		name string
		dst  *node
	}{{names[0], &n.year}, {names[1], &n.month}, {names[2], &n.day}, {"hour", &n.hour},
		{"minute", &n.minute}, {"second", &n.second}, {"millisecond", &n.millisecond}}
	for _, f := range fields {
		if spec, ok := specs[f.name]; ok {
			p, err := parse(spec, sc)
			if err != nil {
				return nil, err
			}
			*f.dst = p
		}
	}
	var tzNode node
	if spec, ok := specs["timezone"]; ok {
		var err error
		if tzNode, err = parse(spec, sc); err != nil {
			return nil, err
		}
	}
	allConst := sdAllConstant(n.year, n.month, n.day, n.hour, n.minute, n.second, n.millisecond, tzNode)
	var err error
	if n.tz, err = compileTimezone(tzNode, allConst); err != nil {
		return nil, err
	}
	return sdFold(n, n.year, n.month, n.day, n.hour, n.minute, n.second, n.millisecond, tzNode)
}

// datePartArg evaluates one numeric part of $dateFromParts: absent gives def, nullish
// gives ok=false, and bounded parts must fit in 16 bits as MongoDB requires.
func datePartArg(c *ctx, n node, name string, def int64, bounded bool) (int64, bool, error) {
	if n == nil {
		return def, true, nil
	}
	v, err := n.eval(c)
	if err != nil {
		return 0, false, err
	}
	if value.IsNullish(v) {
		return 0, false, nil
	}
	x, ok := sdIntegral64(v)
	if !ok {
		return 0, false, mongoerr.Newf(40515, "'%s' must evaluate to an integer, found %s with value %s", name, typeName(v), sdRender(v))
	}
	if bounded && (x < math.MinInt16 || x > math.MaxInt16) {
		return 0, false, mongoerr.Newf(31034, "'%s' must evaluate to a value in the range [%d, %d]; value %d is not in range", name, math.MinInt16, math.MaxInt16, x)
	}
	return x, true, nil
}

func (n *dateFromPartsNode) eval(c *ctx) (any, error) {
	var hour, minute, second, ms int64
	parts := []struct {
		n       node
		name    string
		dst     *int64
		bounded bool
	}{{n.hour, "hour", &hour, true}, {n.minute, "minute", &minute, true},
		{n.second, "second", &second, false}, {n.millisecond, "millisecond", &ms, false}}
	for _, p := range parts {
		v, ok, err := datePartArg(c, p.n, p.name, 0, p.bounded)
		if err != nil || !ok {
			return nil, err
		}
		*p.dst = v
	}
	z, err := n.tz.resolve(c)
	if err != nil || z == nil {
		return nil, err
	}
	names := [...]string{"year", "month", "day"}
	if n.iso {
		names = [...]string{"isoWeekYear", "isoWeek", "isoDayOfWeek"}
	}
	y, ok, err := datePartArg(c, n.year, names[0], 1970, false)
	if err != nil || !ok {
		return nil, err
	}
	m, ok, err := datePartArg(c, n.month, names[1], 1, true)
	if err != nil || !ok {
		return nil, err
	}
	d, ok, err := datePartArg(c, n.day, names[2], 1, true)
	if err != nil || !ok {
		return nil, err
	}
	if y < 1 || y > 9999 {
		if n.iso {
			return nil, mongoerr.Newf(31095, "'isoWeekYear' must evaluate to an integer in the range 1 to 9999, found %d", y)
		}
		return nil, mongoerr.Newf(40523, "'year' must evaluate to an integer in the range 1 to 9999, found %d", y)
	}
	var days int64
	if n.iso {
		days = isoDateToDays(y, m, d)
	} else {
		days = monthStartDays(y, m) + d - 1
	}
	res, ok := wallPartsToMillis(days, hour, minute, second, ms, z)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.Overflow, "$dateFromParts: the resulting date is out of range")
	}
	return bson.DateTime(res), nil
}

// monthStartDays returns the day number of the first day of month m of year y, carrying
// months outside 1..12 into the year.
func monthStartDays(y, m int64) int64 {
	y += sdFloorDiv(m-1, 12)
	m = sdFloorMod(m-1, 12) + 1
	return daysFromCivil(y, int(m), 1)
}

// isoDateToDays returns the day number of ISO week-date (year, week, weekday); weeks and
// weekdays outside their ranges carry over.
func isoDateToDays(y, week, wday int64) int64 {
	jan1 := daysFromCivil(y, 1, 1)
	dow := int64(weekdayOfDays(jan1)) // 0 = Sunday
	if dow > 4 {
		dow -= 7
	}
	return jan1 - dow + (week-1)*7 + wday
}

// wallPartsToMillis combines a local day number and time parts (possibly outside their
// usual ranges) into an instant in zone z, reporting false on overflow.
func wallPartsToMillis(days, hour, minute, second, ms int64, z *tzone) (int64, bool) {
	total, ok := sdMulAdd(days, 86400, 0)
	if ok {
		total, ok = sdMulAdd(hour, 3600, total)
	}
	if ok {
		total, ok = sdMulAdd(minute, 60, total)
	}
	if ok {
		total, ok = sdAdd64(total, second)
	}
	if ok {
		total, ok = sdAdd64(total, sdFloorDiv(ms, 1000))
	}
	// Beyond this many seconds the result cannot be a date (milliseconds in an int64).
	const maxSeconds = math.MaxInt64 / 1000
	if !ok || total > maxSeconds || total < -maxSeconds {
		return 0, false
	}
	sec := z.localToUTC(total)
	res, ok := sdMulAdd(sec, 1000, sdFloorMod(ms, 1000))
	return res, ok
}

// sdMulAdd returns a*b+c, reporting false on int64 overflow.
func sdMulAdd(a, b, c int64) (int64, bool) {
	if a != 0 {
		p := a * b
		if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
			return 0, false
		}
		return sdAdd64(p, c)
	}
	return c, true
}

func sdAdd64(a, b int64) (int64, bool) {
	s := a + b
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		return 0, false
	}
	return s, true
}

func sdSub64(a, b int64) (int64, bool) {
	s := a - b
	if (a >= 0) != (b >= 0) && (s >= 0) != (a >= 0) {
		return 0, false
	}
	return s, true
}

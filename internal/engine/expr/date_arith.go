package expr

import (
	"math"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// timeUnit is a unit of $dateAdd, $dateDiff and $dateTrunc.
type timeUnit uint8

const (
	unitYear timeUnit = iota
	unitQuarter
	unitMonth
	unitWeek
	unitDay
	unitHour
	unitMinute
	unitSecond
	unitMillisecond
)

var timeUnits = map[string]timeUnit{
	"year": unitYear, "quarter": unitQuarter, "month": unitMonth, "week": unitWeek,
	"day": unitDay, "hour": unitHour, "minute": unitMinute, "second": unitSecond,
	"millisecond": unitMillisecond,
}

var timeUnitNames = [...]string{"year", "quarter", "month", "week", "day", "hour", "minute",
	"second", "millisecond"}

// unitMillis is the length of the fixed-length units.
var unitMillis = [...]int64{unitWeek: 7 * 86400000, unitDay: 86400000, unitHour: 3600000,
	unitMinute: 60000, unitSecond: 1000, unitMillisecond: 1}

// Days of the week as MongoDB numbers them for startOfWeek: Monday 1 to Sunday 7.
var weekdayNames = map[string]int{
	"monday": 1, "mon": 1, "tuesday": 2, "tue": 2, "wednesday": 3, "wed": 3,
	"thursday": 4, "thu": 4, "friday": 5, "fri": 5, "saturday": 6, "sat": 6,
	"sunday": 7, "sun": 7,
}

const defaultStartOfWeek = 7 // Sunday

// unitParser validates a unit value; $dateAdd/$dateSubtract and $dateDiff/$dateTrunc
// report bad units with different codes.
type unitParser func(v any) (timeUnit, error)

func arithUnitParser(op string) unitParser {
	return func(v any) (timeUnit, error) {
		s, ok := v.(string)
		if !ok {
			return 0, mongoerr.Newf(5166404, "%s requires 'unit' to be a string, but got %s", op, typeName(v))
		}
		u, ok := timeUnits[s]
		if !ok {
			return 0, mongoerr.Newf(mongoerr.FailedToParse, "unknown time unit value: %s", s)
		}
		return u, nil
	}
}

func diffUnitParser(op string) unitParser {
	return func(v any) (timeUnit, error) {
		s, ok := v.(string)
		if !ok {
			return 0, mongoerr.Newf(5439013, "%s requires 'unit' to be a string, but got %s", op, typeName(v))
		}
		u, ok := timeUnits[s]
		if !ok {
			return 0, mongoerr.Newf(5439014, "%s parameter 'unit' value cannot be recognized as a time unit: %s", op, s)
		}
		return u, nil
	}
}

func parseStartOfWeek(op string, v any) (int, error) {
	s, ok := v.(string)
	if !ok {
		return 0, mongoerr.Newf(5439015, "%s requires 'startOfWeek' to be a string, but got %s", op, typeName(v))
	}
	d, ok := weekdayNames[strings.ToLower(s)]
	if !ok {
		return 0, mongoerr.Newf(5439016, "%s parameter 'startOfWeek' value cannot be recognized as a day of a week: %s", op, s)
	}
	return d, nil
}

// unitArg is a compiled unit argument; a constant is validated at compile time as
// MongoDB's optimizer does (unless the whole expression is constant; see
// compileTimezone).
type unitArg struct {
	n        node
	fixed    bool
	constNil bool
	unit     timeUnit
	parse    unitParser
}

func compileUnit(n node, p unitParser, allConst bool) (unitArg, error) {
	a := unitArg{n: n, parse: p}
	if l, ok := n.(literal); ok && !allConst {
		if value.IsNullish(l.v) {
			a.constNil = true
			return a, nil
		}
		u, err := p(l.v)
		if err != nil {
			return a, err
		}
		a.fixed, a.unit = true, u
	}
	return a, nil
}

// resolve returns the unit, or ok=false when it is nullish.
func (a *unitArg) resolve(c *ctx) (timeUnit, bool, error) {
	if a.fixed {
		return a.unit, true, nil
	}
	if a.constNil {
		return 0, false, nil
	}
	v, err := a.n.eval(c)
	if err != nil {
		return 0, false, err
	}
	if value.IsNullish(v) {
		return 0, false, nil
	}
	u, err := a.parse(v)
	return u, err == nil, err
}

// dateArithNode is $dateAdd or $dateSubtract.
type dateArithNode struct {
	op                string
	subtract          bool
	startDate, amount node
	unit              unitArg
	tz                timezoneArg
}

func parseDateArith(op string, subtract bool, args any, sc *scope) (node, error) {
	d, ok := sdNamedArgs(args)
	if !ok {
		return nil, mongoerr.Newf(5166400, "%s expects an object as its argument", op)
	}
	n := &dateArithNode{op: op, subtract: subtract}
	var unitNode, tzNode node
	for _, e := range d {
		var dst *node
		switch e.Key {
		case "startDate":
			dst = &n.startDate
		case "unit":
			dst = &unitNode
		case "amount":
			dst = &n.amount
		case "timezone":
			dst = &tzNode
		default:
			return nil, mongoerr.Newf(5166401, "Unrecognized argument to %s: %s. Expected arguments are startDate, unit, amount, and optionally timezone.", op, e.Key)
		}
		p, err := parse(e.Value, sc)
		if err != nil {
			return nil, err
		}
		*dst = p
	}
	if n.startDate == nil || unitNode == nil || n.amount == nil {
		return nil, mongoerr.Newf(5166402, "%s requires startDate, unit, and amount to be present", op)
	}
	allConst := sdAllConstant(n.startDate, unitNode, n.amount, tzNode)
	var err error
	if n.unit, err = compileUnit(unitNode, arithUnitParser(op), allConst); err != nil {
		return nil, err
	}
	if n.tz, err = compileTimezone(tzNode, allConst); err != nil {
		return nil, err
	}
	return sdFold(n, n.startDate, unitNode, n.amount, tzNode)
}

func (n *dateArithNode) eval(c *ctx) (any, error) {
	start, err := n.startDate.eval(c)
	if err != nil || value.IsNullish(start) {
		return nil, err
	}
	unit, ok, err := n.unit.resolve(c)
	if err != nil || !ok {
		return nil, err
	}
	amountV, err := n.amount.eval(c)
	if err != nil || value.IsNullish(amountV) {
		return nil, err
	}
	z, err := n.tz.resolve(c)
	if err != nil || z == nil {
		return nil, err
	}
	ms, ok := sdDateMillis(start)
	if !ok {
		return nil, mongoerr.Newf(5166403, "%s requires startDate to be convertible to a date", n.op)
	}
	amount, ok := sdIntegral64(amountV)
	if !ok {
		return nil, mongoerr.Newf(5166405, "%s expects integer amount of time units", n.op)
	}
	if n.subtract {
		if amount == math.MinInt64 {
			return nil, mongoerr.Newf(6045000, "invalid $dateSubtract 'amount' parameter value: %d", amount)
		}
		amount = -amount
	}
	res, err := dateAdd(ms, unit, amount, z)
	if err != nil {
		return nil, err
	}
	return bson.DateTime(res), nil
}

// maxDateAddAmount bounds |amount| per unit so the arithmetic below cannot overflow
// before the result is range-checked; the bounds are MongoDB's.
func maxDateAddAmount(u timeUnit) int64 {
	const maxDays = int64(math.MaxUint64/86400000) + 1
	const maxYears = maxDays/365 + 1
	switch u {
	case unitYear:
		return maxYears
	case unitQuarter:
		return maxYears * 4
	case unitMonth:
		return maxYears * 12
	case unitWeek:
		return maxDays / 7
	case unitDay:
		return maxDays
	case unitHour:
		return maxDays * 24
	case unitMinute:
		return maxDays * 24 * 60
	}
	return maxDays * 24 * 60 * 60
}

var errDateAddOverflow = mongoerr.Newf(5166406, "dateAdd overflowed")

// dateAdd adds amount units to the instant ms, in zone z. Units of a day or more keep the
// local wall-clock time across daylight-saving changes; month-based units clamp the day
// to the end of the target month.
func dateAdd(ms int64, u timeUnit, amount int64, z *tzone) (int64, error) {
	if u == unitMillisecond {
		r, ok := sdAdd64(ms, amount)
		if !ok {
			return 0, errDateAddOverflow
		}
		return r, nil
	}
	if max := maxDateAddAmount(u); amount <= -max || amount >= max {
		return 0, mongoerr.Newf(5976500, "invalid dateAdd 'amount' parameter value: %d %s", amount, timeUnitNames[u])
	}
	switch u {
	case unitHour, unitMinute, unitSecond:
		r, ok := sdMulAdd(amount, unitMillis[u], ms)
		if !ok {
			return 0, errDateAddOverflow
		}
		return r, nil
	}
	t := z.breakDown(ms)
	var days int64
	switch u {
	case unitWeek:
		days = amount * 7
	case unitDay:
		days = amount
	default:
		months := amount
		if u == unitYear {
			months *= 12
		} else if u == unitQuarter {
			months *= 3
		}
		ty := t.year + sdFloorDiv(int64(t.month)-1+months, 12)
		tm := int(sdFloorMod(int64(t.month)-1+months, 12)) + 1
		td := min(t.day, civilDaysInMonth(ty, tm))
		days = daysFromCivil(ty, tm, td) - t.days()
	}
	wall := t.days() + days
	res, ok := wallPartsToMillis(wall, int64(t.hour), int64(t.minute), int64(t.second), int64(t.ms), z)
	if !ok {
		return 0, errDateAddOverflow
	}
	return res, nil
}

// dateDiffNode is {$dateDiff: {startDate, endDate, unit, timezone, startOfWeek}}.
type dateDiffNode struct {
	startDate, endDate, startOfWeek node
	unit                            unitArg
	tz                              timezoneArg
}

func parseDateDiff(args any, sc *scope) (node, error) {
	d, ok := sdNamedArgs(args)
	if !ok {
		return nil, mongoerr.Newf(5166301, "$dateDiff only supports an object as its argument")
	}
	n := &dateDiffNode{}
	var unitNode, tzNode node
	for _, e := range d {
		var dst *node
		switch e.Key {
		case "startDate":
			dst = &n.startDate
		case "endDate":
			dst = &n.endDate
		case "unit":
			dst = &unitNode
		case "timezone":
			dst = &tzNode
		case "startOfWeek":
			dst = &n.startOfWeek
		default:
			return nil, mongoerr.Newf(5166302, "Unrecognized argument to $dateDiff: %s. Expected arguments are startDate, endDate, unit, and optionally timezone and startOfWeek.", e.Key)
		}
		p, err := parse(e.Value, sc)
		if err != nil {
			return nil, err
		}
		*dst = p
	}
	switch {
	case n.startDate == nil:
		return nil, mongoerr.Newf(5166303, "Missing 'startDate' parameter to $dateDiff")
	case n.endDate == nil:
		return nil, mongoerr.Newf(5166304, "Missing 'endDate' parameter to $dateDiff")
	case unitNode == nil:
		return nil, mongoerr.Newf(5166305, "Missing 'unit' parameter to $dateDiff")
	}
	allConst := sdAllConstant(n.startDate, n.endDate, unitNode, tzNode, n.startOfWeek)
	var err error
	if n.unit, err = compileUnit(unitNode, diffUnitParser("$dateDiff"), allConst); err != nil {
		return nil, err
	}
	if n.tz, err = compileTimezone(tzNode, allConst); err != nil {
		return nil, err
	}
	return sdFold(n, n.startDate, n.endDate, unitNode, tzNode, n.startOfWeek)
}

// evalStartOfWeek evaluates startOfWeek for week units; ok=false means nullish.
func evalStartOfWeek(c *ctx, op string, n node) (int, bool, error) {
	if n == nil {
		return defaultStartOfWeek, true, nil
	}
	v, err := n.eval(c)
	if err != nil {
		return 0, false, err
	}
	if value.IsNullish(v) {
		return 0, false, nil
	}
	d, err := parseStartOfWeek(op, v)
	return d, err == nil, err
}

func (n *dateDiffNode) eval(c *ctx) (any, error) {
	startV, err := n.startDate.eval(c)
	if err != nil || value.IsNullish(startV) {
		return nil, err
	}
	endV, err := n.endDate.eval(c)
	if err != nil || value.IsNullish(endV) {
		return nil, err
	}
	unit, ok, err := n.unit.resolve(c)
	if err != nil || !ok {
		return nil, err
	}
	sow := defaultStartOfWeek
	if unit == unitWeek {
		if sow, ok, err = evalStartOfWeek(c, "$dateDiff", n.startOfWeek); err != nil || !ok {
			return nil, err
		}
	}
	z, err := n.tz.resolve(c)
	if err != nil || z == nil {
		return nil, err
	}
	start, ok := sdDateMillis(startV)
	if !ok {
		return nil, mongoerr.Newf(5166307, "$dateDiff requires 'startDate' to be a date, but got %s", typeName(startV))
	}
	end, ok := sdDateMillis(endV)
	if !ok {
		return nil, mongoerr.Newf(5166307, "$dateDiff requires 'endDate' to be a date, but got %s", typeName(endV))
	}
	return dateDiff(start, end, unit, z, sow)
}

// dateDiff counts the unit boundaries crossed from start to end in zone z.
func dateDiff(start, end int64, u timeUnit, z *tzone, startOfWeek int) (any, error) {
	if u == unitMillisecond {
		r, ok := sdSub64(end, start)
		if !ok {
			return nil, mongoerr.Newf(5166308, "dateDiff overflowed")
		}
		return r, nil
	}
	s, e := z.breakDown(start), z.breakDown(end)
	return diffLocal(&s, &e, u, startOfWeek), nil
}

// diffLocal is dateDiff on broken-down times; offsets correct the sub-day units so that
// they count elapsed time across daylight-saving changes.
func diffLocal(s, e *localTime, u timeUnit, startOfWeek int) int64 {
	years := e.year - s.year
	days := e.days() - s.days()
	hours := int64(e.hour-s.hour) + days*24
	minutes := int64(e.minute-s.minute) + hours*60
	switch u {
	case unitYear:
		return years
	case unitQuarter:
		return int64((e.month-1)/3-(s.month-1)/3) + years*4
	case unitMonth:
		return int64(e.month-s.month) + years*12
	case unitWeek:
		return (days + int64(dayOfWeekFrom(s, startOfWeek)) - int64(dayOfWeekFrom(e, startOfWeek))) / 7
	case unitDay:
		return days
	case unitHour:
		return hours + (s.offset-e.offset)/3600
	case unitMinute:
		return minutes + (s.offset-e.offset)/60
	}
	return int64(e.second-s.second) + minutes*60 + (s.offset - e.offset)
}

// dayOfWeekFrom returns the position of t's day in a week starting on startOfWeek
// (1 = Monday .. 7 = Sunday): 0 for the first day through 6.
func dayOfWeekFrom(t *localTime, startOfWeek int) int {
	return (t.isoWeekday() - startOfWeek + 7) % 7
}

// dateTruncNode is {$dateTrunc: {date, unit, binSize, timezone, startOfWeek}}.
type dateTruncNode struct {
	date, binSize, startOfWeek node
	unit                       unitArg
	tz                         timezoneArg
}

func parseDateTrunc(args any, sc *scope) (node, error) {
	d, ok := sdNamedArgs(args)
	if !ok {
		return nil, mongoerr.Newf(5439007, "$dateTrunc only supports an object as its argument")
	}
	n := &dateTruncNode{}
	var unitNode, tzNode node
	for _, e := range d {
		var dst *node
		switch e.Key {
		case "date":
			dst = &n.date
		case "unit":
			dst = &unitNode
		case "binSize":
			dst = &n.binSize
		case "timezone":
			dst = &tzNode
		case "startOfWeek":
			dst = &n.startOfWeek
		default:
			return nil, mongoerr.Newf(5439008, "Unrecognized argument to $dateTrunc: %s. Expected arguments are date, unit, and optionally, binSize, timezone, startOfWeek", e.Key)
		}
		p, err := parse(e.Value, sc)
		if err != nil {
			return nil, err
		}
		*dst = p
	}
	if n.date == nil {
		return nil, mongoerr.Newf(5439009, "Missing 'date' parameter to $dateTrunc")
	}
	if unitNode == nil {
		return nil, mongoerr.Newf(5439010, "Missing 'unit' parameter to $dateTrunc")
	}
	allConst := sdAllConstant(n.date, unitNode, n.binSize, tzNode, n.startOfWeek)
	var err error
	if n.unit, err = compileUnit(unitNode, diffUnitParser("$dateTrunc"), allConst); err != nil {
		return nil, err
	}
	if n.tz, err = compileTimezone(tzNode, allConst); err != nil {
		return nil, err
	}
	return sdFold(n, n.date, unitNode, n.binSize, tzNode, n.startOfWeek)
}

func (n *dateTruncNode) eval(c *ctx) (any, error) {
	dateV, err := n.date.eval(c)
	if err != nil || value.IsNullish(dateV) {
		return nil, err
	}
	binSize := int64(1)
	if n.binSize != nil {
		v, err := n.binSize.eval(c)
		if err != nil || value.IsNullish(v) {
			return nil, err
		}
		b, ok := sdIntegral64(v)
		if !ok {
			return nil, mongoerr.Newf(5439017, "$dateTrunc requires 'binSize' to be a 64-bit integer, but got value '%s' of type %s", sdRender(v), typeName(v))
		}
		if b <= 0 {
			return nil, mongoerr.Newf(5439018, "$dateTrunc requires 'binSize' to be greater than 0, but got value %d", b)
		}
		binSize = b
	}
	unit, ok, err := n.unit.resolve(c)
	if err != nil || !ok {
		return nil, err
	}
	sow := defaultStartOfWeek
	if unit == unitWeek {
		if sow, ok, err = evalStartOfWeek(c, "$dateTrunc", n.startOfWeek); err != nil || !ok {
			return nil, err
		}
	}
	z, err := n.tz.resolve(c)
	if err != nil || z == nil {
		return nil, err
	}
	ms, ok := sdDateMillis(dateV)
	if !ok {
		return nil, mongoerr.Newf(5439012, "$dateTrunc requires 'date' to be a date, but got %s", typeName(dateV))
	}
	res, err := dateTrunc(ms, unit, binSize, z, sow)
	if err != nil {
		return nil, err
	}
	return bson.DateTime(res), nil
}

// referenceMillis is 2000-01-01T00:00:00Z, the origin of $dateTrunc's bins.
const referenceMillis = 946684800000

// dateTrunc returns the lower bound of the bin of binSize units containing ms. Bins are
// counted from 2000-01-01 00:00 in zone z (for weeks, from the first startOfWeek day on
// or after it).
func dateTrunc(ms int64, u timeUnit, binSize int64, z *tzone, startOfWeek int) (int64, error) {
	ref := referenceMillis - z.utcOffsetAt(referenceMillis)*1000
	if u >= unitHour {
		bin, ok := sdMulAdd(binSize, unitMillis[u], 0)
		if !ok {
			return 0, mongoerr.Newf(5439002, "dateTrunc overflowed")
		}
		shifted, ok := sdSub64(ms, ref)
		if !ok {
			return 0, mongoerr.Newf(5439000, "dateTrunc overflowed")
		}
		res, ok := sdSub64(ms, sdFloorMod(shifted, bin))
		if !ok {
			return 0, mongoerr.Newf(5439001, "dateTrunc overflowed")
		}
		return res, nil
	}
	if binSize > 100_000_000_000 {
		return 0, mongoerr.Newf(5439006, "dateTrunc unsupported binSize value")
	}
	refDay := 1
	if u == unitWeek {
		// 2000-01-01 was a Saturday (6 in Monday=1 numbering).
		refDow := (6 - startOfWeek + 7) % 7
		adjust := (7 - refDow) % 7
		ref += int64(adjust) * 86400000
		refDay += adjust
	}
	r := localTime{year: 2000, month: 1, day: refDay}
	t := z.breakDown(ms)
	dist := diffLocal(&r, &t, u, startOfWeek)
	lower, ok := sdSub64(dist, sdFloorMod(dist, binSize))
	if !ok {
		return 0, mongoerr.Newf(5439004, "dateTrunc overflowed")
	}
	return dateAdd(ref, u, lower, z)
}

package compiler

import (
	"fmt"
	"time"

	"github.com/modjo-orm/modjo/fields"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// transform is a Django transform on date and time fields (published__year). expr
// builds the aggregation expression of the transform applied to x, an expression of
// kind in; bucket, when the transform is monotonic for in, gives the interval [lo, hi)
// of stored values whose transform equals v, so comparisons become index-friendly
// ranges.
type transform struct {
	name   string
	bit    uint32
	output fields.Kind
	expr   func(in fields.Kind, x any) any
	bucket func(in fields.Kind) func(v any) (lo, hi any, err error)
}

// Microseconds per unit of a TimeField (stored as microseconds since midnight).
const (
	usPerHour   = int64(time.Hour / time.Microsecond)
	usPerMinute = int64(time.Minute / time.Microsecond)
	usPerSecond = int64(time.Second / time.Microsecond)
)

func dateOp(op string) func(fields.Kind, any) any {
	return func(_ fields.Kind, x any) any { return bson.D{{Key: op, Value: x}} }
}

// timePart extracts a unit of a time of day: from a date with a date operator, from a
// TimeField's microseconds by division.
func timePart(op string, per int64, mod int32) func(fields.Kind, any) any {
	return func(in fields.Kind, x any) any {
		if in != fields.TimeField {
			return bson.D{{Key: op, Value: x}}
		}
		v := any(bson.D{{Key: "$floor", Value: bson.D{{Key: "$divide", Value: bson.A{x, per}}}}})
		if mod > 0 {
			v = bson.D{{Key: "$mod", Value: bson.A{v, mod}}}
		}
		return v
	}
}

func truncDay(x any) any {
	return bson.D{{Key: "$dateTrunc", Value: bson.D{{Key: "date", Value: x}, {Key: "unit", Value: "day"}}}}
}

// Transform bits, one per transform.
const (
	trDate uint32 = 1 << iota
	trYear
	trISOYear
	trMonth
	trDay
	trWeek
	trWeekDay
	trISOWeekDay
	trQuarter
	trTime
	trHour
	trMinute
	trSecond
)

// transformList is every transform, in the order error messages list them.
var transformList = []*transform{
	{name: "date", bit: trDate, output: fields.DateField,
		expr: func(_ fields.Kind, x any) any { return truncDay(x) },
		bucket: func(in fields.Kind) func(any) (any, any, error) {
			if in != fields.DateTimeField {
				return nil
			}
			return dateBucket
		}},
	{name: "year", bit: trYear, output: fields.IntegerField, expr: dateOp("$year"),
		bucket: func(in fields.Kind) func(any) (any, any, error) {
			if in != fields.DateTimeField && in != fields.DateField {
				return nil
			}
			return calendarYearBucket
		}},
	{name: "iso_year", bit: trISOYear, output: fields.IntegerField, expr: dateOp("$isoWeekYear"),
		bucket: func(in fields.Kind) func(any) (any, any, error) {
			if in != fields.DateTimeField && in != fields.DateField {
				return nil
			}
			return isoYearBucket
		}},
	{name: "month", bit: trMonth, output: fields.IntegerField, expr: dateOp("$month")},
	{name: "day", bit: trDay, output: fields.IntegerField, expr: dateOp("$dayOfMonth")},
	{name: "week", bit: trWeek, output: fields.IntegerField, expr: dateOp("$isoWeek")},
	{name: "week_day", bit: trWeekDay, output: fields.IntegerField, expr: dateOp("$dayOfWeek")},
	{name: "iso_week_day", bit: trISOWeekDay, output: fields.IntegerField, expr: dateOp("$isoDayOfWeek")},
	{name: "quarter", bit: trQuarter, output: fields.IntegerField,
		expr: func(_ fields.Kind, x any) any {
			return bson.D{{Key: "$ceil", Value: bson.D{{Key: "$divide", Value: bson.A{bson.D{{Key: "$month", Value: x}}, int32(3)}}}}}
		}},
	{name: "time", bit: trTime, output: fields.TimeField,
		// Microseconds since midnight, like a stored TimeField: the milliseconds since the
		// start of the (UTC) day, times 1000.
		expr: func(_ fields.Kind, x any) any {
			return bson.D{{Key: "$multiply", Value: bson.A{bson.D{{Key: "$subtract", Value: bson.A{x, truncDay(x)}}}, int32(1000)}}}
		}},
	{name: "hour", bit: trHour, output: fields.IntegerField, expr: timePart("$hour", usPerHour, 0),
		bucket: func(in fields.Kind) func(any) (any, any, error) {
			if in != fields.TimeField {
				return nil
			}
			return hourBucket
		}},
	{name: "minute", bit: trMinute, output: fields.IntegerField, expr: timePart("$minute", usPerMinute, 60)},
	{name: "second", bit: trSecond, output: fields.IntegerField, expr: timePart("$second", usPerSecond, 60)},
}

// transformByName returns the transform with the given name, or nil.
func transformByName(name string) *transform {
	for _, t := range transformList {
		if t.name == name {
			return t
		}
	}
	return nil
}

// transformsOf returns the transforms a kind allows, as Django registers them.
func transformsOf(k fields.Kind) uint32 {
	const dateParts = trYear | trISOYear | trMonth | trDay | trWeek | trWeekDay | trISOWeekDay | trQuarter
	const timeParts = trHour | trMinute | trSecond
	switch k {
	case fields.DateTimeField:
		return dateParts | timeParts | trDate | trTime
	case fields.DateField:
		return dateParts
	case fields.TimeField:
		return timeParts
	}
	return 0
}

// Years a year lookup accepts: far beyond any real date, well inside BSON's range.
const maxYear = 200_000

func calendarYearStart(y int) time.Time { return time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC) }

// isoYearStart is the Monday of ISO week 1: the week holding January 4.
func isoYearStart(y int) time.Time {
	jan4 := time.Date(y, time.January, 4, 0, 0, 0, 0, time.UTC)
	back := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	return jan4.AddDate(0, 0, -back)
}

// The year buckets, built once.
var (
	calendarYearBucket = yearBucket(calendarYearStart)
	isoYearBucket      = yearBucket(isoYearStart)
)

func yearBucket(start func(int) time.Time) func(any) (any, any, error) {
	return func(v any) (any, any, error) {
		n, err := intValue(v)
		if err != nil {
			return nil, nil, err
		}
		if n < -maxYear || n > maxYear {
			return nil, nil, fmt.Errorf("year %d is out of range", n)
		}
		y := int(n)
		return bson.DateTime(start(y).UnixMilli()), bson.DateTime(start(y + 1).UnixMilli()), nil
	}
}

func dateBucket(v any) (any, any, error) {
	d, err := dateValue(v)
	if err != nil {
		return nil, nil, err
	}
	lo := d.Time() // the zero Date is 0001-01-01, the zero time.Time
	return bson.DateTime(lo.UnixMilli()), bson.DateTime(lo.AddDate(0, 0, 1).UnixMilli()), nil
}

func hourBucket(v any) (any, any, error) {
	n, err := intValue(v)
	if err != nil {
		return nil, nil, err
	}
	if n < -1<<20 || n > 1<<20 {
		return nil, nil, fmt.Errorf("hour %d is out of range", n)
	}
	return n * usPerHour, (n + 1) * usPerHour, nil
}

/* fakecupti.c: a fake libcupti.so.13 for the tests, never installed.
 *
 * Enough of CUPTI for the collector (src/cupti/collector.c) to run in a process
 * without a GPU: one subscriber slot, as CUPTI has; activity kinds to enable; and
 * buffers asked of the client and handed back full through its callbacks. The "GPU
 * work" is what the test program asks for with fakecupti_copies(n): n host-to-device
 * copies (Memcpy6 records) of a kind enabled, kept until the next
 * cuptiActivityFlushAll as CUPTI keeps its records in its own buffers, so that a
 * forked child holds them too, as it holds CUPTI's. fakecupti_enabled() says how
 * many activity kinds are enabled, so that a test can see a client touched nothing.
 *
 * FAKECUPTI_HELD=NAME: another CUPTI client, injected before the program started (as
 * nsys is), holds the subscriber slot from the start: cuptiSubscribe fails with
 * CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED, and cuptiSubscribe_v2 names NAME.
 * A program can also take the slot itself, by subscribing first; that client has no
 * name (cuptiSubscribe gives none). */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cupti.h>

#define API __attribute__((visibility("default")))

API void fakecupti_copies(unsigned n);
API int fakecupti_enabled(void);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static bool env_read;
static bool held;		/* the subscriber slot */
static char holder[CUPTI_OLD_SUBSCRIBER_NAME_MIN_LEN];
static char handle;		/* what CUpti_SubscriberHandle points at */
static bool enabled[CUPTI_ACTIVITY_KIND_COUNT];
static CUpti_BuffersCallbackRequestFunc requested;
static CUpti_BuffersCallbackCompleteFunc completed;
static unsigned pending;	/* copies not yet handed to the client */
static uint32_t correlation;

/* ---- version and errors ---------------------------------------------------------- */

API CUptiResult CUPTIAPI cuptiGetVersion(uint32_t *version)
{
	if (!version)
		return CUPTI_ERROR_INVALID_PARAMETER;
	*version = CUPTI_API_VERSION;
	return CUPTI_SUCCESS;
}

API CUptiResult CUPTIAPI cuptiGetResultString(CUptiResult result, const char **str)
{
	if (!str)
		return CUPTI_ERROR_INVALID_PARAMETER;
	switch (result) {
	case CUPTI_SUCCESS: *str = "CUPTI_SUCCESS"; break;
	case CUPTI_ERROR_INVALID_PARAMETER: *str = "CUPTI_ERROR_INVALID_PARAMETER"; break;
	case CUPTI_ERROR_MAX_LIMIT_REACHED: *str = "CUPTI_ERROR_MAX_LIMIT_REACHED"; break;
	case CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED:
		*str = "CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED";
		break;
	default: *str = "CUPTI_ERROR_UNKNOWN"; break;
	}
	return CUPTI_SUCCESS;
}

/* ---- the subscriber slot ----------------------------------------------------------- */

API CUptiResult CUPTIAPI cuptiSubscribe_v2(CUpti_SubscriberHandle *subscriber, CUpti_CallbackFunc callback,
					   void *userdata, CUpti_SubscriberParams *params)
{
	(void)callback, (void)userdata;
	if (!subscriber || (params && !params->structSize))
		return CUPTI_ERROR_INVALID_PARAMETER;
	pthread_mutex_lock(&mu);
	if (!env_read) {
		const char *h = getenv("FAKECUPTI_HELD");
		env_read = true;
		if (h) {
			held = true;
			snprintf(holder, sizeof holder, "%s", h);
		}
	}
	if (held) {
		if (params && params->oldSubscriberName && params->oldSubscriberSize)
			snprintf(params->oldSubscriberName, params->oldSubscriberSize, "%s", holder);
		pthread_mutex_unlock(&mu);
		return CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED;
	}
	held = true;
	snprintf(holder, sizeof holder, "%s", params && params->subscriberName ? params->subscriberName : "");
	*subscriber = (CUpti_SubscriberHandle)(void *)&handle;
	pthread_mutex_unlock(&mu);
	return CUPTI_SUCCESS;
}

API CUptiResult CUPTIAPI cuptiSubscribe(CUpti_SubscriberHandle *subscriber, CUpti_CallbackFunc callback,
					void *userdata)
{
	return cuptiSubscribe_v2(subscriber, callback, userdata, NULL);
}

API CUptiResult CUPTIAPI cuptiUnsubscribe(CUpti_SubscriberHandle subscriber)
{
	CUptiResult rc = CUPTI_ERROR_INVALID_PARAMETER;

	pthread_mutex_lock(&mu);
	if (held && (void *)subscriber == (void *)&handle) {
		held = false;
		holder[0] = '\0';
		rc = CUPTI_SUCCESS;
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

/* ---- activity ------------------------------------------------------------------------ */

API CUptiResult CUPTIAPI cuptiActivityRegisterCallbacks(CUpti_BuffersCallbackRequestFunc funcBufferRequested,
							CUpti_BuffersCallbackCompleteFunc funcBufferCompleted)
{
	if (!funcBufferRequested || !funcBufferCompleted)
		return CUPTI_ERROR_INVALID_PARAMETER;
	pthread_mutex_lock(&mu);
	requested = funcBufferRequested;
	completed = funcBufferCompleted;
	pthread_mutex_unlock(&mu);
	return CUPTI_SUCCESS;
}

API CUptiResult CUPTIAPI cuptiActivityEnable(CUpti_ActivityKind kind)
{
	if ((int)kind <= 0 || kind >= CUPTI_ACTIVITY_KIND_COUNT)
		return CUPTI_ERROR_INVALID_PARAMETER;
	pthread_mutex_lock(&mu);
	enabled[kind] = true;
	pthread_mutex_unlock(&mu);
	return CUPTI_SUCCESS;
}

API CUptiResult CUPTIAPI cuptiActivityFlushPeriod(uint32_t time)
{
	(void)time;	/* records go out at cuptiActivityFlushAll only */
	return CUPTI_SUCCESS;
}

API CUptiResult CUPTIAPI cuptiActivityFlushAll(uint32_t flag)
{
	CUpti_BuffersCallbackRequestFunc req;
	CUpti_BuffersCallbackCompleteFunc done;
	unsigned n;

	(void)flag;
	pthread_mutex_lock(&mu);
	req = requested;
	done = completed;
	n = req && done ? pending : 0;
	pending -= n;
	pthread_mutex_unlock(&mu);
	while (n) {
		uint8_t *buf = NULL;
		size_t size = 0, max = 0, k = 0;
		req(&buf, &size, &max);
		if (!buf || size < sizeof(CUpti_ActivityMemcpy6))
			return CUPTI_ERROR_UNKNOWN;
		for (; n && (k + 1) * sizeof(CUpti_ActivityMemcpy6) <= size; k++, n--) {
			CUpti_ActivityMemcpy6 m;
			memset(&m, 0, sizeof m);
			m.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
			m.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_HTOD;
			m.srcKind = CUPTI_ACTIVITY_MEMORY_KIND_PAGEABLE;
			m.dstKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
			m.bytes = 1u << 20;
			m.start = 1000000u * (k + 1);
			m.end = m.start + 100000u;
			m.streamId = 7;
			m.correlationId = __atomic_add_fetch(&correlation, 1, __ATOMIC_RELAXED);
			memcpy(buf + k * sizeof m, &m, sizeof m);
		}
		done(NULL, 0, buf, size, k * sizeof(CUpti_ActivityMemcpy6));
	}
	return CUPTI_SUCCESS;
}

API CUptiResult CUPTIAPI cuptiActivityGetNextRecord(uint8_t *buffer, size_t validBufferSizeBytes,
						    CUpti_Activity **record)
{
	uint8_t *next;

	if (!buffer || !record)
		return CUPTI_ERROR_INVALID_PARAMETER;
	next = *record ? (uint8_t *)*record + sizeof(CUpti_ActivityMemcpy6) : buffer;
	if (next + sizeof(CUpti_ActivityMemcpy6) > buffer + validBufferSizeBytes)
		return CUPTI_ERROR_MAX_LIMIT_REACHED;
	*record = (CUpti_Activity *)(void *)next;
	return CUPTI_SUCCESS;
}

API CUptiResult CUPTIAPI cuptiActivityGetNumDroppedRecords(CUcontext context, uint32_t streamId, size_t *dropped)
{
	(void)context, (void)streamId;
	if (!dropped)
		return CUPTI_ERROR_INVALID_PARAMETER;
	*dropped = 0;
	return CUPTI_SUCCESS;
}

/* ---- for the tests ------------------------------------------------------------------ */

API void fakecupti_copies(unsigned n)
{
	pthread_mutex_lock(&mu);
	if (enabled[CUPTI_ACTIVITY_KIND_MEMCPY])
		pending += n;
	pthread_mutex_unlock(&mu);
}

API int fakecupti_enabled(void)
{
	int n = 0;

	pthread_mutex_lock(&mu);
	for (int k = 0; k < CUPTI_ACTIVITY_KIND_COUNT; k++)
		n += enabled[k];
	pthread_mutex_unlock(&mu);
	return n;
}

"""Security headers Django 5.2 does not set itself."""
from django.conf import settings
from django.http import JsonResponse


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class ApiErrorsAsJson:
    """Errors under /api/ that Django or django-ninja answer with text of their own (405 for a method a
    path does not take, say) become JSON `{"error": ...}` like every other API error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (request.path.startswith("/api/") and response.status_code >= 400
                and not response.get("Content-Type", "").startswith("application/json")):
            allow = response.get("Allow")
            message = response.reason_phrase.lower()
            if allow:
                message += f"; this path takes {allow}"
            json_response = JsonResponse({"error": message}, status=response.status_code)
            if allow:
                json_response["Allow"] = allow
            return json_response
        return response

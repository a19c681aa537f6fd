"""/notes/: this instance's notes. GET lists them; POST (form field `text`) adds one."""
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .models import Note


@csrf_exempt  # the demo has no CSRF middleware; a real site keeps Django's
def notes(request):
    if request.method == 'POST':
        text = request.POST.get('text', '').strip()
        if not text:
            return JsonResponse({'error': 'give the note as the form field "text"'}, status=400)
        Note.objects.create(text=text[:500])
    return JsonResponse({
        'user': request.META.get('REMOTE_USER'),
        'notes': [n.text for n in Note.objects.all()],
    })

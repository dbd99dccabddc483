"""Passages of the default article, verbatim, for tests of verification and generation without retrieval."""

from __future__ import annotations

from assistant.schemas import Passage, ScoredPassage, Span

P_SECURITY = ("ويأتي اللقاء الذي لم يعلن عنه مسبقا لدواع أمنية على ما يبدو بعد يوم من انتهاء الجولة التاسعة "
              "لمحادثات استانا التي جرت تحت رعاية الدول الضامنة وهي تركيا وروسيا وإيران وغياب ممثلين عن "
              "الولايات المتحدة على خلاف الجولات السابقة وبحضور الوسيط الأممي ستفان دي ميستورا.")
P_KREMLIN = ("موسكو - أعلن الكرملين الخميس أن الرئيس الروسي فلاديمير بوتين أجرى لقاء مع نظيره السوري بشار "
             "الأسد في مدينة سوتشي جنوب روسيا لبحث تسوية الأزمة في سوريا.")
P_SHIPS = ("كما تأتي زيارة الأسد إلى روسيا بعيد اعلان الرئيس الروسي فلاديمير بوتين نشر سفن حربية مزودة "
           "بصواريخ كالبير الروسية بشكل دائم في البحر الابيض المتوسط بينما تخطط موسكو لبلوغ عدد هذه السفن "
           "الحربية نحو 102 سفينة لحماية سوريا.")
P_RAMADAN = ("وحسب فيديو نشرته وسائل الاعلام الروسية للحظات استقبال بوتين للأسد، هنأ الرئيس الروسي نظيره "
             "السوري بحلول شهر رمضان، ورد الأخير بتهنئة بوتين بانتخابه رئسا لولاية جديدة.")


def scored(text: str, index: int, dense: float = 0.5) -> ScoredPassage:
    passage = Passage(id=f"t#p{index}", article_id="t", index=index, role="body", text=text,
                      span=Span(start=1000 * index, end=1000 * index + len(text)))
    return ScoredPassage(passage=passage, score=1.0 / (index + 1), dense_score=dense)


GIVEN = [scored(P_KREMLIN, 0), scored(P_SECURITY, 1), scored(P_SHIPS, 2)]

import time
from assistant import Assistant
t=time.time(); a=Assistant(); print('init', time.time()-t)
qs=["Why was the visit not announced in advance?","لماذا لم يعلن عن الزيارة مسبقا؟","Who are the guarantor states of the Astana talks?","من هي الدول الضامنة لمحادثات أستانا؟","What is the population of Sochi?","كم عدد سكان سوتشي؟","Where did Assad meet Putin?","How many warships does Moscow plan?","What did Assad congratulate Putin on?","When did Russia intervene in Syria?", "What is the capital of France?", "Who won the football world cup?"]
for q in qs:
    t=time.time(); r=a.ask(q); 
    print(f"{(time.time()-t)*1000:.0f}ms", r.mode, q, '\n  ', r.answer[:160], '\n   top', [(s.passage.id.split('#')[1], round(s.dense_score or 0,3), s.lexical_rank) for s in r.retrieved[:3]])
